"""What the identity worker clears away for the provider, every few minutes.

Authorization codes are kept an hour past their expiry, so a replay in that time still
finds the code and ends the session it started; failure counters of an address go once
their window has passed and the address is not refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_

from identity.oauth.addresses import WINDOW
from identity.oauth.tables import AddressFailures, AuthorizationCode
from schoolkit.db import Database
from schoolkit.worker import PeriodicTask

CODE_KEEP = timedelta(hours=1)


def prune(database: Database) -> None:
    now = datetime.now(UTC)
    with database.transaction() as session:
        session.execute(
            delete(AuthorizationCode).where(AuthorizationCode.expires_at < now - CODE_KEEP)
        )
        session.execute(
            delete(AddressFailures).where(
                AddressFailures.window_started_at < now - WINDOW,
                or_(AddressFailures.refused_until.is_(None), AddressFailures.refused_until < now),
            )
        )


PRUNE = PeriodicTask("oauth-prune", 300.0, prune)
