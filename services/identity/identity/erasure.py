"""identity's part of an erasure (DESIGN §4): account, credentials, sessions, contacts,
guardianships and the profile go as the request's categories say; the tombstone stays."""

from __future__ import annotations

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from identity import classes
from identity.models import Account, Guardianship, Invitation, LoginSession, Person, RefreshToken
from schoolkit import ordering
from schoolkit.erasure import ErasureOutcome, ErasureRequest

HOLDS = frozenset({"account", "sessions", "contacts", "guardianships", "invitations", "profile"})


def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    ids = request.subject_ids
    if request.asks_for("sessions") or request.asks_for("account"):
        outcome.count(
            "sessions",
            _delete(session, delete(LoginSession).where(LoginSession.account_id.in_(ids))),
        )
        _delete(session, delete(RefreshToken).where(RefreshToken.account_id.in_(ids)))
    if request.asks_for("account"):
        outcome.count("account", _delete(session, delete(Account).where(Account.id.in_(ids))))
    if request.asks_for("guardianships"):
        links = or_(Guardianship.guardian_id.in_(ids), Guardianship.student_id.in_(ids))
        outcome.count("guardianships", _delete(session, delete(Guardianship).where(links)))
    if request.asks_for("invitations"):
        issued_for = or_(Invitation.guardian_id.in_(ids), Invitation.student_id.in_(ids))
        outcome.count("invitations", _delete(session, delete(Invitation).where(issued_for)))
    if request.asks_for("profile") or request.asks_for("contacts"):
        classes.forget_students(session, ids)
        outcome.count("profile", _delete(session, delete(Person).where(Person.id.in_(ids))))
        ordering.forget_versions(session, "person", ids)
    return outcome


def _delete(session: Session, statement) -> int:  # type: ignore[no-untyped-def]
    return session.execute(statement).rowcount or 0
