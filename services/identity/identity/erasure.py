"""identity's part of an erasure (DESIGN §4): account, credentials, sessions, contacts,
guardianships and the profile go as the request's categories say; the tombstone stays.
With the account, the security audit forgets the person's network addresses and the
details written about them; its entries (what, when, between which opaque ids) stay.

Only people of the erasure's school whose kind is the one the request names (a student
or a guardian) are erased (DESIGN §4 6a). Anyone else the request names (staff, another
school's id, a kind that does not match) is refused: nothing of theirs is touched, they
are not buried, and the completion counts them as `refused_subjects`. Every account the
erasure deletes has its sessions ended everywhere at once, as a block does: the
`identity.session.revoked` it publishes feeds every service's deny-list.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
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
from identity.oauth.sessions import revoke_all_sessions
from schoolkit import ordering, tombstones
from schoolkit.erasure import ErasureOutcome, ErasureRequest

HOLDS = frozenset({"account", "sessions", "contacts", "guardianships", "invitations", "profile"})
# The revocation's reason in identity.session.revoked: an erasure, not a person's act.
ERASED_BY = "erased"


def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    ids = _erasable(session, request)
    outcome.refuse(_refused(session, request, ids))
    if not ids:
        return outcome
    school = request.school_id
    if request.asks_for("sessions") or request.asks_for("account"):
        outcome.count("sessions", _erase_sessions(session, request, ids))
    if request.asks_for("account"):
        accounts = delete(Account).where(Account.school_id == school, Account.id.in_(ids))
        outcome.count("account", _affected(session, accounts))
    if request.asks_for("guardianships"):
        links = or_(Guardianship.guardian_id.in_(ids), Guardianship.student_id.in_(ids))
        found = delete(Guardianship).where(Guardianship.school_id == school, links)
        outcome.count("guardianships", _affected(session, found))
    if request.asks_for("invitations"):
        issued_for = or_(Invitation.guardian_id.in_(ids), Invitation.student_id.in_(ids))
        found = delete(Invitation).where(Invitation.school_id == school, issued_for)
        outcome.count("invitations", _affected(session, found))
    if request.asks_for("profile") or request.asks_for("contacts"):
        classes.forget_students(session, ids)
        people = delete(Person).where(Person.school_id == school, Person.id.in_(ids))
        outcome.count("profile", _affected(session, people))
        ordering.forget_versions(session, "person", ids)
    if request.asks_for("account"):
        outcome.count("audit_addresses", _forget_addresses_and_details(session, school, ids))
    return outcome


def _erasable(session: Session, request: ErasureRequest) -> list[str]:
    """The subjects who are, in the erasure's school, the student or guardian it names."""
    kinds = {subject.subject_id: subject.kind for subject in request.subjects}
    found = session.execute(
        select(Person.id, Person.kind).where(
            Person.school_id == request.school_id, Person.id.in_(request.subject_ids)
        )
    )
    return [person_id for person_id, kind in found if kinds.get(person_id) == kind]


def _refused(session: Session, request: ErasureRequest, erasable: list[str]) -> set[str]:
    """Named, yet not erasable here, and not erased here before (asking twice confirms
    again; it refuses nobody)."""
    unknown = set(request.subject_ids) - set(erasable)
    return unknown - tombstones.erased_among(session, unknown, request.school_id)


def _erase_sessions(session: Session, request: ErasureRequest, ids: list[str]) -> int:
    """End every session of the accounts at once, everywhere (the deny-list), then
    destroy them. The account ids are the person ids, checked against the school."""
    accounts = session.scalars(
        select(Account.id).where(Account.school_id == request.school_id, Account.id.in_(ids))
    )
    for account_id in accounts:
        revoke_all_sessions(session, account_id, request.school_id, ERASED_BY)
    destroyed = _affected(session, delete(LoginSession).where(LoginSession.account_id.in_(ids)))
    _affected(session, delete(RefreshToken).where(RefreshToken.account_id.in_(ids)))
    return destroyed


def _forget_addresses_and_details(session: Session, school: str, ids: list[str]) -> int:
    """The security audit keeps what happened, when, between which opaque ids; the
    network address a person signed in from, and the details written about them (a
    block's reason, the fields changed), go with their account."""
    about = or_(AuditEntry.actor_id.in_(ids), AuditEntry.target_id.in_(ids))
    scrubbed = update(AuditEntry).where(AuditEntry.school_id == school, about)
    return _affected(session, scrubbed.values(ip=None, details={}))


def _affected(session: Session, statement) -> int:  # type: ignore[no-untyped-def]
    return session.execute(statement).rowcount or 0
