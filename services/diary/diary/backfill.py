"""Filling the diary of a late agreement (R-DRY-3): ask the journal and identity, apply the answers.

The consent gate drops a student's personal data while no agreement covers them, so a
family that signs in October would otherwise find September empty. When an agreement
brings a student (or a guardian) under the gate, the diary publishes
`diary.backfill.requested` in the same transaction; the journal answers with
`journal.student.snapshot` (the student's enrolments, marks, attendance and final marks of
their current school year) and identity with one `identity.person.snapshot` per person asked
for (names).

Each item of an answer is applied as the event it stands for would be: a name through the
`identity.person.changed` handler, marks and attendance records with the same rows, the
same versions and the same logged events as their handlers write (in a few statements for
the whole year rather than five per item: a full year is 2,000 items). One thing
differs: an item at the version the diary already recorded is applied too
(`schoolkit.ordering.accept_current_version`), because the diary records a person's
version before the gate drops the name, and an ended agreement's erasure keeps versions.
An item older than what the diary applied (an event that overtook the answer) loses.

Enrolments and one student's share of a finalization have no event of their own, so each
is applied and logged as a snapshot of that item alone (`enrolment_parts`, `final_parts`):
diary-rebuild replays it like any logged event. Spans are kept for every student, but an
ended agreement's erasure takes them, and a family that signs again needs them back.
Class-level data (calendar, subjects, classes, lessons, topics, homework) is not asked
for: the diary keeps it for every class.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from diary import gate
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish

# True while the items of a snapshot are applied: versions equal to the recorded one count.
current_state: ContextVar[bool] = ContextVar("diary_applying_snapshot", default=False)

REQUESTED = "diary.backfill.requested"
# Which event each list of journal.student.snapshot stands for, and the item's own id.
STUDENT_ITEMS = {
    "marks": ("journal.mark.recorded", "mark_id"),
    "attendance": ("journal.attendance.recorded", "attendance_id"),
}


def lacking(session: Session, school_id: str, student_id: str, guardian_id: str) -> list[str]:
    """Whom the gate has been dropping data of, and an agreement is about to cover.

    Asked before the new agreement is stored. A replay of the log asks nobody: the log
    already holds what the answers brought.
    """
    if gate.replaying.get():
        return []
    people = []
    if not gate.student_is_covered(session, school_id, student_id):
        people.append(student_id)
    if not gate.guardian_is_covered(session, school_id, guardian_id):
        people.append(guardian_id)
    return people


def request(session: Session, concluded: Event, people: list[str]) -> None:
    """Publish `diary.backfill.requested` for an agreement that brought `people` under the gate."""
    if not people:
        return
    data = concluded.data
    publish(
        session,
        Event(
            REQUESTED,
            {
                "student_id": data["student_id"],
                "guardian_id": data["guardian_id"],
                "agreement_id": data["agreement_id"],
                "person_ids": people,
                "requested_at": iso_utc(datetime.now(UTC)),
            },
            concluded.school_id,
            subject=data["student_id"],
        ),
    )


@contextmanager
def applying_current_state() -> Iterator[None]:
    token = current_state.set(True)
    try:
        yield
    finally:
        current_state.reset(token)


def enrolment_parts(snapshot: Event) -> Iterator[Event]:
    """Each enrolment of a journal.student.snapshot as a snapshot of that enrolment alone.

    There is no event of an enrolment's spans, so the part is what the event log keeps and
    diary-rebuild applies again.
    """
    base = uuid.UUID(snapshot.id)
    for enrolment in snapshot.data["enrolments"]:
        part_id = str(uuid.uuid5(base, enrolment["enrolment_id"]))
        yield _part(snapshot, snapshot.type, _alone(snapshot, enrolments=[enrolment]), part_id)


def final_parts(snapshot: Event) -> Iterator[Event]:
    """Each final mark of a journal.student.snapshot as a snapshot of that final mark alone.

    journal.period.finalized lists a whole class, and the diary logs it filtered to the
    students covered then; this student's final is logged apart, keyed by finalization and
    student, naming the student in it as the finalization's list does (so an erasure finds
    it like any logged final).
    """
    for final in snapshot.data["finals"]:
        student_id = snapshot.data["student_id"]
        part_id = str(uuid.uuid5(uuid.UUID(final["finalization_id"]), student_id))
        named = {**final, "student_id": student_id}
        yield _part(snapshot, snapshot.type, _alone(snapshot, finals=[named]), part_id)


def _alone(snapshot: Event, **lists: list[dict[str, Any]]) -> dict[str, Any]:
    """The snapshot's data with only the given items: the rest are logged apart."""
    empty = {"enrolments": [], "marks": [], "attendance": [], "finals": []}
    return {**snapshot.data, **empty, **lists}


def student_items(snapshot: Event) -> Iterator[Event]:
    """Each mark and attendance record of a journal.student.snapshot, as the event it stands for.

    The ids are derived from the snapshot's, so the same answer gives the same events
    (the event log keeps them as they are, for diary-rebuild).
    """
    base = uuid.UUID(snapshot.id)
    for field, (event_type, id_field) in STUDENT_ITEMS.items():
        for item in snapshot.data[field]:
            yield _part(snapshot, event_type, item, str(uuid.uuid5(base, item[id_field])))


def _part(snapshot: Event, event_type: str, data: dict[str, Any], event_id: str) -> Event:
    return Event(
        type=event_type,
        data=data,
        school_id=snapshot.school_id,
        subject=snapshot.subject,
        id=event_id,
        time=snapshot.time,
        correlation_id=snapshot.correlation_id,
    )
