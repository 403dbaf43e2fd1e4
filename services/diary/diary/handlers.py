"""The one table of what the diary worker consumes: event type -> handler.

Each handler applies one event to the read model in the consumer's transaction: it
checks the entity's version (schoolkit.ordering), passes personal data through the
consent gate (diary.gate), raises the change counters behind the ETags, and keeps the
event in the diary's own log for `diary-rebuild` (diary.eventlog).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from diary import backfill, changes, eventlog, gate, store
from diary.erasure import HOLDS as ERASURE_HOLDS
from diary.erasure import erase
from diary.models import (
    Agreement,
    Attendance,
    EnrolmentSpan,
    FinalMark,
    Guardianship,
    Holiday,
    Homework,
    Lesson,
    Mark,
    Message,
    MessageRecipient,
    Period,
    Person,
    SchoolClass,
    SchoolYear,
    Subject,
)
from schoolkit import tombstones
from schoolkit.consumer import Handler
from schoolkit.denylist import HANDLERS as DENY_LIST_HANDLERS
from schoolkit.erasure import erasure_handler
from schoolkit.events import Event
from schoolkit.ordering import accept_current_version, accept_current_versions, accept_version
from schoolkit.tables import entity_versions

STALE = "stale"
NOT_COVERED = "ignored"  # personal data of someone without an agreement in force
# The kit checks the envelope's subject (the student); a relation's guardian is ours to check.
ERASED = "tombstoned"


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _newer(session: Session, event: Event, entity_type: str, entity_id: str) -> bool:
    return _newer_version(session, event, entity_type, entity_id, event.data["entity_version"])


def _newer_version(
    session: Session, event: Event, entity_type: str, entity_id: str, version: int
) -> bool:
    # A snapshot's item at the version already seen is the same state: applied again.
    accept = accept_current_version if backfill.current_state.get() else accept_version
    return accept(session, f"{event.school_id}:{entity_type}", entity_id, version)


# --- class-level data: kept for every class -------------------------------------------


def apply_calendar(session: Session, event: Event) -> str | None:
    data, school = event.data, event.school_id
    if not _newer(session, event, "year", data["year_id"]):
        return STALE
    store.put(
        session,
        SchoolYear,
        school_id=school,
        year_id=data["year_id"],
        name=data["name"],
        starts_on=_day(data["starts_on"]),
        ends_on=_day(data["ends_on"]),
    )
    for table in (Period, Holiday):
        session.execute(
            delete(table).where(table.school_id == school, table.year_id == data["year_id"])
        )
    for period in data["periods"]:
        session.add(
            Period(
                school_id=school,
                period_id=period["period_id"],
                year_id=data["year_id"],
                kind=period["kind"],
                name=period["name"],
                starts_on=_day(period["starts_on"]),
                ends_on=_day(period["ends_on"]),
            )
        )
    for holiday in data["holidays"]:
        session.add(
            Holiday(
                school_id=school,
                holiday_id=holiday["holiday_id"],
                year_id=data["year_id"],
                name=holiday["name"],
                starts_on=_day(holiday["starts_on"]),
                ends_on=_day(holiday["ends_on"]),
            )
        )
    changes.bump(session, school, changes.SCHOOL, school)
    eventlog.remember(session, event, ("year", data["year_id"]))
    return None


def apply_subject(session: Session, event: Event) -> str | None:
    data = event.data
    if not _newer(session, event, "subject", data["school_subject_id"]):
        return STALE
    store.put(
        session,
        Subject,
        school_id=event.school_id,
        subject_id=data["school_subject_id"],
        name=data["name"],
        short_name=data.get("short_name"),
        removed=data["change"] == "removed",
    )
    changes.bump(session, event.school_id, changes.SCHOOL, event.school_id)
    eventlog.remember(session, event, ("subject", data["school_subject_id"]))
    return None


def apply_class(session: Session, event: Event) -> str | None:
    data = event.data
    if not _newer(session, event, "class", data["class_id"]):
        return STALE
    store.put(
        session,
        SchoolClass,
        school_id=event.school_id,
        class_id=data["class_id"],
        year_id=data["year_id"],
        name=data["name"],
        grade=data.get("grade"),
        class_teacher_id=data.get("class_teacher_id"),
        removed=data["change"] == "removed",
    )
    changes.bump(session, event.school_id, changes.CLASS, data["class_id"])
    eventlog.remember(session, event, ("class", data["class_id"]))
    return None


def apply_lesson(session: Session, event: Event) -> str | None:
    data = event.data
    if not _newer(session, event, "lesson", data["lesson_id"]):
        return STALE
    moved_from = data.get("transferred_from") or {}
    store.put(
        session,
        Lesson,
        school_id=event.school_id,
        lesson_id=data["lesson_id"],
        class_id=data["class_id"],
        group_id=data.get("group_id"),
        subject_id=data["school_subject_id"],
        teacher_id=data["teacher_id"],
        substituted_teacher_id=data.get("substituted_teacher_id"),
        lesson_date=_day(data["date"]),
        slot=data["slot"],
        starts_at=_moment(data["starts_at"]),
        ends_at=_moment(data["ends_at"]),
        status=data["status"],
        topic=data.get("topic"),
        homework=data.get("homework"),
        transferred_from_date=_day(moved_from["date"]) if moved_from else None,
        transferred_from_slot=moved_from.get("slot"),
    )
    changes.bump(session, event.school_id, changes.CLASS, data["class_id"])
    eventlog.remember(session, event, ("lesson", data["lesson_id"]))
    return None


def apply_homework(session: Session, event: Event) -> str | None:
    data = dict(event.data)
    if not _newer(session, event, "homework", data["homework_id"]):
        return STALE
    addressed = data.get("student_ids")
    if addressed is not None:
        addressed = gate.covered_among(session, event.school_id, addressed)
        if not addressed:
            return NOT_COVERED
        data["student_ids"] = addressed
    store.put(
        session,
        Homework,
        school_id=event.school_id,
        homework_id=data["homework_id"],
        lesson_id=data["lesson_id"],
        class_id=data["class_id"],
        group_id=data.get("group_id"),
        subject_id=data["school_subject_id"],
        teacher_id=data["teacher_id"],
        student_ids=" ".join(addressed) if addressed else None,
        assigned_on=_day(data["assigned_on"]),
        due_on=_day(data["due_on"]),
        text=data["text"],
    )
    changes.bump(session, event.school_id, changes.CLASS, data["class_id"])
    eventlog.remember(session, event, ("homework", data["homework_id"]), addressed or (), data)
    return None


def apply_message(session: Session, event: Event) -> str | None:
    data = dict(event.data)
    school, message_id = event.school_id, data["message_id"]
    if not _newer(session, event, "message", message_id):
        return STALE
    addressed = data.get("student_ids")
    if addressed is not None:
        addressed = gate.covered_among(session, school, addressed)
        if not addressed:
            return NOT_COVERED
        data["student_ids"] = addressed
    store.put(
        session,
        Message,
        school_id=school,
        message_id=message_id,
        class_id=data["class_id"],
        group_id=data.get("group_id"),
        lesson_id=data.get("lesson_id"),
        subject_id=data.get("school_subject_id"),
        teacher_id=data["teacher_id"],
        addressed=addressed is not None,
        kind=data["kind"],
        text=data["text"],
        sent_at=_moment(data["sent_at"]),
    )
    session.execute(
        delete(MessageRecipient).where(
            MessageRecipient.school_id == school, MessageRecipient.message_id == message_id
        )
    )
    for student_id in addressed or ():
        session.add(
            MessageRecipient(school_id=school, message_id=message_id, student_id=student_id)
        )
        changes.bump(session, school, changes.STUDENT, student_id)
    if addressed is None:
        changes.bump(session, school, changes.CLASS, data["class_id"])
    eventlog.remember(session, event, ("message", message_id), addressed or (), data)
    return None


# --- id links that decide access: kept for every student --------------------------------


def apply_enrolment(session: Session, event: Event) -> str | None:
    data = event.data
    if not _newer(session, event, "enrolment", data["enrolment_id"]):
        return STALE
    _replace_spans(session, event, data["class_id"], data["enrolled_on"], data["group_ids"])
    return _enrolment_changed(session, event)


def apply_transfer(session: Session, event: Event) -> str | None:
    data = event.data
    if not _newer(session, event, "enrolment", data["enrolment_id"]):
        return STALE
    spans = _spans_of(session, event.school_id, data["enrolment_id"])
    moved_on = _day(data["transferred_on"])
    for span in spans:
        if span.starts_on >= moved_on:
            session.delete(span)  # a transfer re-sent, or one back-dated before a later span
        elif span.ends_on is None or span.ends_on >= moved_on:
            span.ends_on = date.fromordinal(moved_on.toordinal() - 1)
    session.flush()
    session.add(_span(event, data["to_class_id"], moved_on, data["group_ids"]))
    changes.bump(session, event.school_id, changes.CLASS, data["from_class_id"])
    return _enrolment_changed(session, event)


def apply_leaving(session: Session, event: Event) -> str | None:
    data = event.data
    if not _newer(session, event, "enrolment", data["enrolment_id"]):
        return STALE
    left_on = _day(data["left_on"])
    for span in _spans_of(session, event.school_id, data["enrolment_id"]):
        if span.ends_on is None or span.ends_on > left_on:
            span.ends_on = left_on
    return _enrolment_changed(session, event)


def _replace_spans(
    session: Session, event: Event, class_id: str, starts_on: str, group_ids: list[str]
) -> None:
    for span in _spans_of(session, event.school_id, event.data["enrolment_id"]):
        session.delete(span)
    session.flush()
    session.add(_span(event, class_id, _day(starts_on), group_ids))


def _span(event: Event, class_id: str, starts_on: date, group_ids: list[str]) -> EnrolmentSpan:
    return EnrolmentSpan(
        school_id=event.school_id,
        enrolment_id=event.data["enrolment_id"],
        starts_on=starts_on,
        student_id=event.data["student_id"],
        class_id=class_id,
        group_ids=" ".join(group_ids),
        ends_on=None,
    )


def _spans_of(session: Session, school_id: str, enrolment_id: str) -> list[EnrolmentSpan]:
    return list(
        session.query(EnrolmentSpan)
        .filter(EnrolmentSpan.school_id == school_id, EnrolmentSpan.enrolment_id == enrolment_id)
        .order_by(EnrolmentSpan.starts_on)
    )


def _enrolment_changed(session: Session, event: Event) -> None:
    """Transfers and leavings are snapshots too, but only the chain rebuilds the spans."""
    student_id = event.data["student_id"]
    changes.bump(session, event.school_id, changes.STUDENT, student_id)
    # One log row per event (not per enrolment): replaying the chain rebuilds the spans.
    eventlog.remember(session, event, ("enrolment_event", event.id), [student_id])


def apply_guardian_linked(session: Session, event: Event) -> str | None:
    return _guardianship(session, event, active=True)


def apply_guardian_unlinked(session: Session, event: Event) -> str | None:
    return _guardianship(session, event, active=False)


def _guardianship(session: Session, event: Event, *, active: bool) -> str | None:
    data = event.data
    if tombstones.is_erased(session, event.school_id, data["guardian_id"]):
        return ERASED
    if not _newer(session, event, "guardianship", data["guardianship_id"]):
        return STALE
    store.put(
        session,
        Guardianship,
        school_id=event.school_id,
        guardianship_id=data["guardianship_id"],
        guardian_id=data["guardian_id"],
        student_id=data["student_id"],
        active=active,
    )
    changes.bump(session, event.school_id, changes.STUDENT, data["student_id"])
    people = [data["guardian_id"], data["student_id"]]
    eventlog.remember(session, event, ("guardianship", data["guardianship_id"]), people)
    return None


# --- the consent gate's own inputs ------------------------------------------------------


def apply_agreement_concluded(session: Session, event: Event) -> str | None:
    data = event.data
    if tombstones.is_erased(session, event.school_id, data["guardian_id"]):
        return ERASED
    if not _newer(session, event, "agreement", data["agreement_id"]):
        return STALE
    lacking = backfill.lacking(session, event.school_id, data["student_id"], data["guardian_id"])
    store.put(
        session,
        Agreement,
        school_id=event.school_id,
        agreement_id=data["agreement_id"],
        guardian_id=data["guardian_id"],
        student_id=data["student_id"],
        concluded_at=_moment(data["concluded_at"]),
        ends_at=None,
    )
    # What the gate dropped about them until now is asked for again (diary.backfill).
    backfill.request(session, event, lacking)
    return _agreement_changed(session, event)


def apply_agreement_terminated(session: Session, event: Event) -> str | None:
    data = event.data
    if not _newer(session, event, "agreement", data["agreement_id"]):
        return STALE
    ends_at = _moment(data["effective_at"])
    store.put(
        session,
        Agreement,
        school_id=event.school_id,
        agreement_id=data["agreement_id"],
        guardian_id=data["guardian_id"],
        student_id=data["student_id"],
        concluded_at=_moment(data["registered_at"]),
        ends_at=ends_at,
    )
    return _agreement_changed(session, event)


def apply_consent_revoked(session: Session, event: Event) -> str | None:
    """A revoked consent ends every diary agreement of that guardian for that child at once."""
    data = event.data
    if not _newer(session, event, "consent", data["consent_id"]):
        return STALE
    revoked_at = min(_moment(data["received_at"]), gate.now())
    session.execute(
        update(Agreement)
        .where(
            Agreement.school_id == event.school_id,
            Agreement.guardian_id == data["guardian_id"],
            Agreement.student_id == data["student_id"],
            gate.in_force(revoked_at),
        )
        .values(ends_at=revoked_at)
    )
    return _agreement_changed(session, event, ("consent", data["consent_id"]))


def _agreement_changed(
    session: Session, event: Event, entity: tuple[str, str] | None = None
) -> None:
    data = event.data
    changes.bump(session, event.school_id, changes.STUDENT, data["student_id"])
    people = [data["guardian_id"], data["student_id"]]
    eventlog.remember(session, event, entity or ("agreement", data["agreement_id"]), people)


# --- a student's personal data: only while covered -------------------------------------


def apply_person(session: Session, event: Event) -> str | None:
    data = event.data
    school, person_id = event.school_id, data["person_id"]
    if not _newer(session, event, "person", person_id):
        return STALE
    if data["kind"] == "student" and not gate.student_is_covered(session, school, person_id):
        return NOT_COVERED
    if data["kind"] == "guardian" and not gate.guardian_is_covered(session, school, person_id):
        return NOT_COVERED
    store.put(
        session,
        Person,
        school_id=school,
        person_id=person_id,
        kind=data["kind"],
        last_name=data["last_name"],
        first_name=data["first_name"],
        middle_name=data.get("middle_name"),
        birth_date=_day(data["birth_date"]) if data.get("birth_date") else None,
    )
    scope = changes.STUDENT if data["kind"] == "student" else changes.SCHOOL
    changes.bump(session, school, scope, person_id if scope == changes.STUDENT else school)
    eventlog.remember(session, event, ("person", person_id), [person_id])
    return None


def apply_mark(session: Session, event: Event) -> str | None:
    data = event.data
    school = event.school_id
    if not gate.student_is_covered(session, school, data["student_id"]):
        return NOT_COVERED
    if not _newer(session, event, "mark", data["mark_id"]):
        return STALE
    store.put(session, Mark, **_mark_row(school, data))
    return _student_changed(session, event, ("mark", data["mark_id"]))


def _mark_row(school: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "school_id": school,
        "mark_id": data["mark_id"],
        "student_id": data["student_id"],
        "lesson_id": data["lesson_id"],
        "lesson_date": _day(data["lesson_date"]),
        "period_id": data["period_id"],
        "class_id": data["class_id"],
        "subject_id": data["school_subject_id"],
        "teacher_id": data["teacher_id"],
        "work_type": data["work_type"],
        "weight": float(data["weight"]),
        "scale": data["scale"],
        "value": str(data["value"]),
        "comment": data.get("comment"),
        "recorded_at": _moment(data.get("recorded_at") or data["corrected_at"]),
    }


def apply_mark_removed(session: Session, event: Event) -> str | None:
    data = event.data
    if not gate.student_is_covered(session, event.school_id, data["student_id"]):
        return NOT_COVERED
    if not _newer(session, event, "mark", data["mark_id"]):
        return STALE
    session.execute(
        delete(Mark).where(Mark.school_id == event.school_id, Mark.mark_id == data["mark_id"])
    )
    return _student_changed(session, event, ("mark", data["mark_id"]))


def apply_attendance(session: Session, event: Event) -> str | None:
    data = event.data
    if not gate.student_is_covered(session, event.school_id, data["student_id"]):
        return NOT_COVERED
    if not _newer(session, event, "attendance", data["attendance_id"]):
        return STALE
    store.put(session, Attendance, **_attendance_row(event.school_id, data))
    return _student_changed(session, event, ("attendance", data["attendance_id"]))


def _attendance_row(school: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "school_id": school,
        "attendance_id": data["attendance_id"],
        "student_id": data["student_id"],
        "lesson_id": data["lesson_id"],
        "lesson_date": _day(data["lesson_date"]),
        "class_id": data["class_id"],
        "subject_id": data["school_subject_id"],
        "status": data["status"],
        "reason": data.get("reason"),
    }


def apply_finals(session: Session, event: Event) -> str | None:
    data = dict(event.data)
    school = event.school_id
    if not _newer(session, event, "finalization", data["finalization_id"]):
        return STALE
    students = [final["student_id"] for final in data["finals"]]
    covered = set(gate.covered_among(session, school, students))
    data["finals"] = [final for final in data["finals"] if final["student_id"] in covered]
    if not data["finals"]:
        return NOT_COVERED
    for final in data["finals"]:
        store.put(
            session,
            FinalMark,
            school_id=school,
            student_id=final["student_id"],
            period_id=data["period_id"],
            subject_id=data["school_subject_id"],
            scale=final["scale"],
            value=str(final["value"]),
        )
        changes.bump(session, school, changes.STUDENT, final["student_id"])
    entity = ("finalization", data["finalization_id"])
    eventlog.remember(session, event, entity, sorted(covered), data)
    return None


# --- the answers to diary.backfill.requested ---------------------------------------------


def apply_student_snapshot(session: Session, event: Event) -> str | None:
    """The journal's enrolments, marks, attendance and final marks of a newly covered student."""
    school, student_id = event.school_id, event.data["student_id"]
    if not gate.student_is_covered(session, school, student_id):
        return NOT_COVERED  # the agreement ended before the answer came
    with backfill.applying_current_state():
        for part in backfill.enrolment_parts(event):
            _apply_enrolment_state(session, part)
        for part in backfill.final_parts(event):
            _apply_final_state(session, part)
    items = list(backfill.student_items(event))
    for event_type, (entity_type, id_field, model, row_of) in _SNAPSHOT_ITEMS.items():
        mine = [item for item in items if item.type == event_type]
        versions = {item.data[id_field]: item.data["entity_version"] for item in mine}
        key = f"{school}:{entity_type}"
        accepted = accept_current_versions(session, key, versions)
        # What apply_mark / apply_attendance do for one, here for a year's worth at once.
        fresh = [item for item in mine if item.data[id_field] in accepted]
        store.put_many(session, model, [row_of(school, item.data) for item in fresh])
        logged = [(item, (entity_type, item.data[id_field])) for item in fresh]
        eventlog.remember_each(session, logged, student_id)
    changes.bump(session, school, changes.STUDENT, student_id)
    return None


def _apply_final_state(session: Session, part: Event) -> None:
    """One final mark as the finalization lists it now (unless a newer one was applied)."""
    [final] = part.data["finals"]
    finalization_id, version = final["finalization_id"], final["entity_version"]
    # The finalization is the whole class's: its own version must stay free for the class's
    # event (other students' finals), so this student's share has a version key of its own,
    # and yields to a newer finalization already applied.
    if _finalized_since(session, part.school_id, finalization_id, version):
        return
    if not _newer_version(session, part, "final_mark", part.id, version):
        return
    store.put(
        session,
        FinalMark,
        school_id=part.school_id,
        student_id=final["student_id"],
        period_id=final["period_id"],
        subject_id=final["school_subject_id"],
        scale=final["scale"],
        value=str(final["value"]),
    )
    entity = ("final_mark", part.id)  # one per finalization and student: the newest wins
    eventlog.remember(session, part, entity, [final["student_id"]])


def _finalized_since(session: Session, school: str, finalization_id: str, version: int) -> bool:
    recorded = session.execute(
        select(entity_versions.c.version).where(
            entity_versions.c.entity_type == f"{school}:finalization",
            entity_versions.c.entity_id == finalization_id,
        )
    ).scalar_one_or_none()
    return recorded is not None and recorded > version


def _apply_enrolment_state(session: Session, part: Event) -> None:
    """An enrolment's spans as the journal holds them now, in place of the diary's own."""
    [enrolment] = part.data["enrolments"]
    school, enrolment_id = part.school_id, enrolment["enrolment_id"]
    if not _newer_version(session, part, "enrolment", enrolment_id, enrolment["entity_version"]):
        return
    for span in _spans_of(session, school, enrolment_id):
        session.delete(span)
    session.flush()
    student_id = part.data["student_id"]
    for span in enrolment["spans"]:
        session.add(
            EnrolmentSpan(
                school_id=school,
                enrolment_id=enrolment_id,
                starts_on=_day(span["starts_on"]),
                student_id=student_id,
                class_id=span["class_id"],
                group_ids=" ".join(span["group_ids"]),
                ends_on=_day(span["ends_on"]) if span.get("ends_on") else None,
            )
        )
    changes.bump(session, school, changes.STUDENT, student_id)
    # Logged like an enrolment event: replayed after the chain it replaces.
    eventlog.remember(session, part, ("enrolment_event", part.id), [student_id])


def apply_person_snapshot(session: Session, event: Event) -> str | None:
    """A newly covered student's or guardian's name; logged as it came, for diary-rebuild."""
    with backfill.applying_current_state():
        return apply_person(session, event)


# A snapshot's items: the event each stands for -> entity, id field, table, row.
_SNAPSHOT_ITEMS = {
    "journal.mark.recorded": ("mark", "mark_id", Mark, _mark_row),
    "journal.attendance.recorded": ("attendance", "attendance_id", Attendance, _attendance_row),
}


def _student_changed(session: Session, event: Event, entity: tuple[str, str]) -> None:
    student_id = event.data["student_id"]
    changes.bump(session, event.school_id, changes.STUDENT, student_id)
    eventlog.remember(session, event, entity, [student_id])


HANDLERS: dict[str, Handler] = {
    "journal.calendar.changed": apply_calendar,
    "journal.subject.changed": apply_subject,
    "journal.class.changed": apply_class,
    "journal.lesson.changed": apply_lesson,
    "journal.homework.assigned": apply_homework,
    "journal.message.sent": apply_message,
    "journal.student.enrolled": apply_enrolment,
    "journal.student.transferred": apply_transfer,
    "journal.student.left": apply_leaving,
    "journal.mark.recorded": apply_mark,
    "journal.mark.corrected": apply_mark,
    "journal.mark.removed": apply_mark_removed,
    "journal.attendance.recorded": apply_attendance,
    "journal.period.finalized": apply_finals,
    "identity.person.changed": apply_person,
    "journal.student.snapshot": apply_student_snapshot,
    "identity.person.snapshot": apply_person_snapshot,
    "identity.guardian.linked": apply_guardian_linked,
    "identity.guardian.unlinked": apply_guardian_unlinked,
    "consent.agreement.concluded": apply_agreement_concluded,
    "consent.agreement.terminated": apply_agreement_terminated,
    "consent.revoked": apply_consent_revoked,
    "consent.erasure.requested": erasure_handler("diary", erase, ERASURE_HOLDS),
    **DENY_LIST_HANDLERS,
}

# What a replay must not touch: the deny-list and erasures are not part of the read model.
REPLAYED: dict[str, Handler] = {
    event_type: handler
    for event_type, handler in HANDLERS.items()
    if event_type.split(".", 1)[0] in ("journal", "consent", "identity")
    and event_type in HANDLERS
    and handler not in DENY_LIST_HANDLERS.values()
    and event_type != "consent.erasure.requested"
}


def handler_for(event_type: str) -> Any:
    return REPLAYED[event_type]
