"""Temporary passwords and password changes (R-IDN-5, issue 3 §4).

An administrator may issue a one-time temporary password (for instance when access is
restored after confirmed unauthorised use): it is shown once, to hand to the user, and
works only to choose a new password; tokens issued with it carry no roles. A password
change ends every session, so a thief holding an old refresh token is out.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from identity import audit
from identity.invitations import ALPHABET
from identity.models import Account
from identity.oauth.sessions import revoke_all_sessions
from identity.passwords import check_policy, hash_password, password_matches
from schoolkit.errors import ApiError

TEMPORARY_LENGTH = 16


def issue_temporary_password(session: Session, account: Account, actor_id: str) -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(TEMPORARY_LENGTH))
    temporary = "-".join(raw[i : i + 4] for i in range(0, TEMPORARY_LENGTH, 4))
    account.password_hash = hash_password(temporary)
    account.must_change_password = True
    account.failed_attempts, account.locked_until = 0, None
    account.version += 1
    # The user is told (notify), so a temporary password they did not ask for is noticed.
    revoke_all_sessions(session, account.id, account.school_id, "administrator", notice=True)
    audit.record(
        session,
        school_id=account.school_id,
        action="temporary_password_issued",
        actor_id=actor_id,
        target_id=account.id,
    )
    return temporary


def change_password(session: Session, account: Account, current: str, new: str) -> None:
    if not password_matches(account.password_hash, current):
        audit.record(
            session,
            school_id=account.school_id,
            action="password_changed",
            actor_id=account.id,
            target_id=account.id,
            outcome="wrong_password",
        )
        session.commit()
        raise ApiError(
            403, "wrong_password", "The current password is wrong.", {"current_password": "wrong"}
        )
    check_policy(new, login=account.login, field="new_password")
    if password_matches(account.password_hash, new):
        raise ApiError(
            422,
            "weak_password",
            "Choose a password you have not used here.",
            {"new_password": "reused"},
        )
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.version += 1
    revoke_all_sessions(session, account.id, account.school_id, "password_changed", notice=True)
    audit.record(
        session,
        school_id=account.school_id,
        action="password_changed",
        actor_id=account.id,
        target_id=account.id,
        details={"at": datetime.now(UTC).isoformat()},
    )
