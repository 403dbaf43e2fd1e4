"""Checking a login and password, with lockout and without revealing whether a login exists.

Every failure gets the same answer; an unknown login still costs one Argon2 verification,
so it takes as long as a wrong password. Five failures within the lock window lock the
account for that window (a correct password does not open it early); the lock ends by
itself, so an attacker cannot keep a user out for good. Failures also count against
the address they come from (addresses.py), which is refused for a while at its limit.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity import audit
from identity.models import Account
from identity.oauth import addresses
from identity.passwords import DUMMY_HASH, hash_password, needs_rehash, password_matches
from schoolkit.events import as_utc

MAX_FAILURES = int(os.environ.get("IDENTITY_MAX_FAILURES") or 5)
LOCK_FOR = timedelta(minutes=float(os.environ.get("IDENTITY_LOCK_MINUTES") or 15))


class InvalidCredentials(Exception):
    """One answer for every failure: unknown login, wrong password, locked, blocked."""


def authenticate(
    session: Session, *, school_id: str, login: str, password: str, ip: str | None
) -> Account:
    now = datetime.now(UTC)
    if addresses.is_refused(session, ip, now):
        # No Argon2 here: an address that floods us should not cost us a hash each time.
        _fail(session, school_id, None, "address_limited", ip=ip, now=now, count=False)
    account = session.scalars(
        select(Account)
        .where(Account.school_id == school_id, Account.login == login)
        .with_for_update()
    ).first()
    if account is None:
        password_matches(DUMMY_HASH, password)
        _fail(session, school_id, None, "unknown_login", ip=ip, now=now)
    if account.locked_until is not None and as_utc(account.locked_until) > now:
        password_matches(DUMMY_HASH, password)
        _fail(session, school_id, account, "locked", ip=ip, now=now)
    if not password_matches(account.password_hash, password):
        _count_failure(account, now)
        _fail(session, school_id, account, "wrong_password", ip=ip, now=now)
    if account.status != "active":
        _fail(session, school_id, account, "blocked", ip=ip, now=now)
    account.failed_attempts = 0
    account.locked_until = None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    audit.record(
        session,
        school_id=school_id,
        action="login",
        actor_id=account.id,
        target_id=account.id,
        ip=ip,
    )
    return account


def _count_failure(account: Account, now: datetime) -> None:
    account.failed_attempts += 1
    if account.failed_attempts >= MAX_FAILURES:
        account.locked_until = now + LOCK_FOR
        account.failed_attempts = 0


def _fail(
    session: Session,
    school_id: str,
    account: Account | None,
    why: str,
    *,
    ip: str | None,
    now: datetime,
    count: bool = True,
) -> NoReturn:
    if count:
        addresses.count_failure(session, ip, now)
    audit.record(
        session,
        school_id=school_id,
        action="login",
        target_id=account.id if account is not None else None,
        outcome=why,
        ip=ip,
    )
    # The counters and the audit entry must survive the failed request.
    session.commit()
    raise InvalidCredentials
