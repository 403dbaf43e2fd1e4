"""Notify's copies of what other services own and news needs: children's names (identity),
classes and groups (journal), diary agreements (consent). Ids, and names only of students.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from notify.models import Agreement, Enrolment, Person
from schoolkit import tombstones
from schoolkit.events import Event
from schoolkit.ordering import accept_version


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def on_person_changed(session: Session, event: Event) -> str | None:
    """Only students' names: a message names the child, never anyone else (minimisation)."""
    data = event.data
    if data["kind"] != "student":
        return "ignored"
    if not accept_version(session, "person", data["person_id"], data["entity_version"]):
        return "stale"
    session.merge(
        Person(
            person_id=data["person_id"],
            school_id=event.school_id,
            kind=data["kind"],
            first_name=data["first_name"],
            last_name=data["last_name"],
        )
    )
    return None


def on_student_enrolled(session: Session, event: Event) -> str | None:
    data = event.data
    if not accept_version(session, "enrolment", data["enrolment_id"], data["entity_version"]):
        return "stale"
    _enrol(session, event, data["class_id"], data.get("group_ids") or [])
    return None


def on_student_transferred(session: Session, event: Event) -> str | None:
    data = event.data
    if not accept_version(session, "enrolment", data["enrolment_id"], data["entity_version"]):
        return "stale"
    _enrol(session, event, data["to_class_id"], data.get("group_ids") or [])
    return None


def on_student_left(session: Session, event: Event) -> str | None:
    data = event.data
    if not accept_version(session, "enrolment", data["enrolment_id"], data["entity_version"]):
        return "stale"
    session.execute(
        delete(Enrolment).where(
            Enrolment.school_id == event.school_id, Enrolment.student_id == data["student_id"]
        )
    )
    return None


def _enrol(session: Session, event: Event, class_id: str, group_ids: list[str]) -> None:
    session.merge(
        Enrolment(
            student_id=event.data["student_id"],
            school_id=event.school_id,
            class_id=class_id,
            group_ids=list(group_ids),
        )
    )


def on_agreement_concluded(session: Session, event: Event) -> str | None:
    data = event.data
    if tombstones.is_erased(session, event.school_id, data["guardian_id"]):
        return "tombstoned"  # the subject is the child; the guardian may be the one erased
    if not accept_version(session, "agreement", data["agreement_id"], data["entity_version"]):
        return "stale"
    _put_agreement(session, event, ends_at=None)
    return None


def end_agreement(session: Session, event: Event) -> str | None:
    """A termination takes effect at its stated time (R-CON-4), perhaps later than now."""
    data = event.data
    if not accept_version(session, "agreement", data["agreement_id"], data["entity_version"]):
        return "stale"
    _put_agreement(session, event, ends_at=moment(data["effective_at"]))
    return None


def on_consent_revoked(session: Session, event: Event) -> str | None:
    """A revoked consent ends every diary agreement of that guardian for that child at
    once, as in the diary."""
    data = event.data
    revoked_at = min(moment(data["received_at"]), datetime.now(UTC))
    session.execute(
        update(Agreement)
        .where(
            Agreement.school_id == event.school_id,
            Agreement.guardian_id == data["guardian_id"],
            Agreement.student_id == data["student_id"],
        )
        .values(ends_at=revoked_at)
    )
    return None


def _put_agreement(session: Session, event: Event, ends_at: datetime | None) -> None:
    data = event.data
    session.merge(
        Agreement(
            agreement_id=data["agreement_id"],
            school_id=event.school_id,
            guardian_id=data["guardian_id"],
            student_id=data["student_id"],
            ends_at=ends_at,
        )
    )


def students_of(
    session: Session, school_id: str, class_id: str, group_id: str | None = None
) -> list[str]:
    """The class's students, or only the group's when the news is for one group."""
    rows = session.execute(
        select(Enrolment.student_id, Enrolment.group_ids).where(
            Enrolment.school_id == school_id, Enrolment.class_id == class_id
        )
    )
    return [student for student, groups in rows if group_id is None or group_id in groups]


def students_of_school(session: Session, school_id: str) -> list[str]:
    return list(
        session.scalars(select(Enrolment.student_id).where(Enrolment.school_id == school_id))
    )
