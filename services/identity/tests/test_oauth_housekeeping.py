"""The worker clears old authorization codes and spent per-address counters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from identity.oauth.housekeeping import prune
from identity.oauth.tables import AddressFailures, AuthorizationCode

from .conftest import SCHOOL, Provider


def code(digest: str, expired_ago: timedelta) -> AuthorizationCode:
    return AuthorizationCode(
        digest=digest,
        client_id="timetable-app",
        account_id="a-1",
        school_id=SCHOOL,
        redirect_uri="https://timetable.example/callback",
        code_challenge="c" * 43,
        code_challenge_method="S256",
        expires_at=datetime.now(UTC) - expired_ago,
    )


def failures(
    address: str, started_ago: timedelta, refused_for: timedelta | None
) -> AddressFailures:
    now = datetime.now(UTC)
    return AddressFailures(
        address=address,
        window_started_at=now - started_ago,
        failures=3,
        refused_until=now + refused_for if refused_for is not None else None,
    )


def test_old_codes_and_spent_address_counters_go_while_live_ones_stay(provider: Provider) -> None:
    with provider.database.transaction() as session:
        session.add_all(
            [
                code("old", timedelta(hours=2)),
                code("recent", timedelta(minutes=5)),
                failures("192.0.2.1", timedelta(hours=1), None),
                failures("192.0.2.2", timedelta(hours=1), timedelta(minutes=5)),
                failures("192.0.2.3", timedelta(minutes=1), None),
            ]
        )
    prune(provider.database)
    with provider.database.transaction() as session:
        codes = set(session.scalars(select(AuthorizationCode.digest)))
        addresses = set(session.scalars(select(AddressFailures.address)))
    assert codes == {"recent"}
    assert addresses == {"192.0.2.2", "192.0.2.3"}
