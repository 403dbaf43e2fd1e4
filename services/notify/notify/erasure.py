"""Notify's part of an erasure (DESIGN §4), and the notice that follows it (R-PD-2, R-PD-3).

On the request notify destroys the subjects' deliveries, preferences, guardianship copies,
children's names, class enrolments, diary agreement copies and contacts, except the contacts of the people who must still be told that their data
was destroyed: those are kept, with that legal basis, until `consent.erasure.finished`
queues the notice; then they go too. Who must be told is remembered by id only.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from notify.config import DeliveryConfig
from notify.models import (
    Agreement,
    Contact,
    Delivery,
    Enrolment,
    Guardianship,
    PendingNotice,
    Person,
    Preference,
)
from notify.notices import queue_notice
from schoolkit import ordering
from schoolkit.erasure import ErasureOutcome, ErasureRequest, Retention
from schoolkit.events import Event

NOTICE_BASIS = (
    "Федеральный закон № 152-ФЗ, ст. 21 ч. 3–5: уведомление субъекта об уничтожении "
    "его персональных данных; контакт удаляется сразу после постановки уведомления в очередь"
)


# As consent's participants.toml says. The copies news needs go with the nearest of them:
# a child's name with the contacts (how a message addresses people), the class and the
# diary agreement copies with the guardianships (who may hear about whom).
HOLDS = frozenset({"contacts", "guardianships", "deliveries"})


def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
    """Every row it touches is of the erasure's school: the same id elsewhere is not its."""
    outcome = ErasureOutcome()
    subjects, school = request.subject_ids, request.school_id
    recipients = _who_must_be_told(session, request)
    _remember_notices(session, request, recipients)
    if request.asks_for("guardianships"):
        outcome.count("guardianships", _erase_guardianships(session, school, subjects))
    if request.asks_for("deliveries"):
        outcome.count("deliveries", _erase_rows(session, school, Delivery.recipient_id, subjects))
        # News about an erased child to a guardian who stays: it holds the child's facts.
        outcome.count("deliveries", _erase_rows(session, school, Delivery.student_id, subjects))
    _erase_copies(session, request, outcome)
    if request.asks_for("contacts"):
        kept = [subject for subject in subjects if subject in recipients]
        gone = [subject for subject in subjects if subject not in recipients]
        outcome.count("preferences", _erase_rows(session, school, Preference.person_id, subjects))
        known = _with_contact(session, school, gone)  # another school's id keeps its versions
        outcome.count("contacts", _erase_rows(session, school, Contact.person_id, gone))
        ordering.forget_versions(session, "contact", known)
        if kept and _any_contact(session, school, kept):
            outcome.retained.append(Retention("contacts", NOTICE_BASIS))
    return outcome


def _erase_copies(session: Session, request: ErasureRequest, outcome: ErasureOutcome) -> None:
    subjects, school = request.subject_ids, request.school_id
    if request.asks_for("contacts"):
        named = list(
            session.scalars(
                select(Person.person_id).where(
                    Person.school_id == school, Person.person_id.in_(subjects)
                )
            )
        )  # another school's person keeps their versions
        # Counted on their own: the act says what kind of record went, and a name is not
        # a contact even though it goes with them.
        outcome.count("names", _erase_rows(session, school, Person.person_id, named))
        ordering.forget_versions(session, "person", named)
    if request.asks_for("guardianships"):
        enrolments = _erase_rows(session, school, Enrolment.student_id, subjects)
        outcome.count("enrolments", enrolments)
        by_guardian = _erase_rows(session, school, Agreement.guardian_id, subjects)
        by_student = _erase_rows(session, school, Agreement.student_id, subjects)
        outcome.count("agreements", by_guardian + by_student)


def _who_must_be_told(session: Session, request: ErasureRequest) -> set[str]:
    """The guardians among the subjects, and the guardians of the students among them."""
    students = request.ids_of("student")
    linked = session.scalars(
        select(Guardianship.guardian_id).where(
            Guardianship.school_id == request.school_id, Guardianship.student_id.in_(students)
        )
    )
    named = set(request.ids_of("guardian")) | set(linked)
    # Another school's person is not this erasure's to tell (nor to erase).
    elsewhere = select(Contact.person_id).where(
        Contact.person_id.in_(named), Contact.school_id != request.school_id
    )
    return named - set(session.scalars(elsewhere))


def _remember_notices(session: Session, request: ErasureRequest, recipients: set[str]) -> None:
    for recipient_id in recipients:
        if session.get(PendingNotice, (request.erasure_id, recipient_id)) is None:
            session.add(
                PendingNotice(
                    erasure_id=request.erasure_id,
                    recipient_id=recipient_id,
                    school_id=request.school_id,
                    # Told, then forgotten, only when the request takes their contact:
                    # an ended diary agreement is told but leaves consent's contacts alone.
                    recipient_erased=(
                        recipient_id in request.subject_ids and request.asks_for("contacts")
                    ),
                )
            )


def _erase_guardianships(session: Session, school: str, subjects: list[str]) -> int:
    found = delete(Guardianship).where(
        Guardianship.school_id == school,
        or_(Guardianship.guardian_id.in_(subjects), Guardianship.student_id.in_(subjects)),
    )
    return session.execute(found).rowcount or 0


def _erase_rows(session: Session, school: str, column, ids: list[str]) -> int:  # type: ignore[no-untyped-def]
    if not ids:
        return 0
    model = column.class_
    return (
        session.execute(delete(model).where(model.school_id == school, column.in_(ids))).rowcount
        or 0
    )


def _with_contact(session: Session, school: str, people: list[str]) -> list[str]:
    found = select(Contact.person_id).where(
        Contact.school_id == school, Contact.person_id.in_(people)
    )
    return list(session.scalars(found))


def _any_contact(session: Session, school: str, people: list[str]) -> bool:
    return bool(people) and bool(_with_contact(session, school, people))


def tell_of_destruction(session: Session, event: Event, config: DeliveryConfig) -> None:
    """On `consent.erasure.finished`: queue the notices, then let the kept contacts go."""
    pending = list(
        session.scalars(
            select(PendingNotice).where(PendingNotice.erasure_id == event.data["erasure_id"])
        )
    )
    details = {
        "erasure_id": event.data["erasure_id"],
        "reason": event.data["reason"],
        "finished_at": event.data["finished_at"],
    }
    for notice in pending:
        queue_notice(
            session,
            recipient_id=notice.recipient_id,
            notice="data_destroyed",
            about=event,
            details=details,
            config=config,
        )
    erased = [notice.recipient_id for notice in pending if notice.recipient_erased]
    _erase_rows(session, event.school_id, Contact.person_id, erased)
    ordering.forget_versions(session, "contact", erased)
    session.execute(
        delete(PendingNotice).where(PendingNotice.erasure_id == event.data["erasure_id"])
    )
