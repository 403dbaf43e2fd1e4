"""identity's part of an erasure (DESIGN §4): account, credentials, sessions, contacts,
guardianships and the profile go as the request's categories say; the tombstone stays.
With the account, the security audit forgets the person's network addresses and the
details written about them; its entries (what, when, between which opaque ids) stay."""

from __future__ import annotations

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from identity import classes
from identity.models import (
    Account,
    AuditEntry,
    Guardianship,
    Invitation,
    LoginSession,
    Person,
    RefreshToken,
)
from schoolkit import ordering
from schoolkit.erasure import ErasureOutcome, ErasureRequest

HOLDS = frozenset({"account", "sessions", "contacts", "guardianships", "invitations", "profile"})


def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    ids = request.subject_ids
    if request.asks_for("sessions") or request.asks_for("account"):
        outcome.count(
            "sessions",
            _affected(session, delete(LoginSession).where(LoginSession.account_id.in_(ids))),
        )
        _affected(session, delete(RefreshToken).where(RefreshToken.account_id.in_(ids)))
    if request.asks_for("account"):
        outcome.count("account", _affected(session, delete(Account).where(Account.id.in_(ids))))
    if request.asks_for("guardianships"):
        links = or_(Guardianship.guardian_id.in_(ids), Guardianship.student_id.in_(ids))
        outcome.count("guardianships", _affected(session, delete(Guardianship).where(links)))
    if request.asks_for("invitations"):
        issued_for = or_(Invitation.guardian_id.in_(ids), Invitation.student_id.in_(ids))
        outcome.count("invitations", _affected(session, delete(Invitation).where(issued_for)))
    if request.asks_for("profile") or request.asks_for("contacts"):
        classes.forget_students(session, ids)
        outcome.count("profile", _affected(session, delete(Person).where(Person.id.in_(ids))))
        ordering.forget_versions(session, "person", ids)
    if request.asks_for("account"):
        outcome.count("audit_addresses", _forget_addresses_and_details(session, ids))
    return outcome


def _forget_addresses_and_details(session: Session, ids: list[str]) -> int:
    """The security audit keeps what happened, when, between which opaque ids; the
    network address a person signed in from, and the details written about them (a
    block's reason, the fields changed), go with their account."""
    about = or_(AuditEntry.actor_id.in_(ids), AuditEntry.target_id.in_(ids))
    scrubbed = update(AuditEntry).where(about).values(ip=None, details={})
    return _affected(session, scrubbed)


def _affected(session: Session, statement) -> int:  # type: ignore[no-untyped-def]
    return session.execute(statement).rowcount or 0
