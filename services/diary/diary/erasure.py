"""The diary's part of an erasure (DESIGN §4): a student's or guardian's diary goes, whole.

Categories (the retention policy's names, as in diary.erasure.completed's example):
- `diary`: the student's read model (name, marks, attendance, finals, messages addressed
  to them, enrolment spans) and every logged event copy about the person. The change
  counter behind their ETags stays (an opaque id and a number, like a tombstone): were it
  reset, a web process could match an old cached body to a new diary's counters;
- `acknowledgements`: what the guardian acknowledged, and what was acknowledged for the student;
- `guardianships`: the access copies (guardian links and diary agreements).
The kit's handler then buries each subject and confirms with the counts.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from diary.models import (
    Acknowledgement,
    Agreement,
    Attendance,
    EnrolmentSpan,
    FinalMark,
    Guardianship,
    Homework,
    LoggedEvent,
    LoggedEventPerson,
    Mark,
    Message,
    MessageRecipient,
    Person,
)
from schoolkit.erasure import ErasureOutcome, ErasureRequest

DIARY = "diary"
ACKNOWLEDGEMENTS = "acknowledgements"
GUARDIANSHIPS = "guardianships"
# Only a request covering all three buries its subjects here (a revocation, a student
# leaving). An ended diary agreement asks for the first two: the diary is erased, and the
# kept copy of the ended agreement stops it from filling again, yet a family that signs
# a new agreement later gets a new diary instead of being dropped for good.
HOLDS = frozenset({DIARY, ACKNOWLEDGEMENTS, GUARDIANSHIPS})


def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    school = request.school_id
    for person_id in request.subject_ids:
        if request.asks_for(DIARY):
            outcome.count(DIARY, _erase_diary(session, school, person_id))
        if request.asks_for(ACKNOWLEDGEMENTS):
            outcome.count(ACKNOWLEDGEMENTS, _erase_acknowledgements(session, school, person_id))
        if request.asks_for(GUARDIANSHIPS):
            outcome.count(GUARDIANSHIPS, _erase_access_copies(session, school, person_id))
    return outcome


def _erase_diary(session: Session, school: str, person_id: str) -> int:
    erased = _erase_addressed_messages(session, school, person_id)
    erased += _erase_individual_homework(session, school, person_id)
    for table in (Mark, Attendance, FinalMark, EnrolmentSpan):
        erased += _delete(session, table, school, table.student_id == person_id)
    erased += _delete(session, Person, school, Person.person_id == person_id)
    return erased + _erase_logged_copies(session, school, person_id)


def _erase_addressed_messages(session: Session, school: str, student_id: str) -> int:
    """A message to a few students loses this one; one to this student alone goes."""
    message_ids = list(
        session.execute(
            select(MessageRecipient.message_id).where(
                MessageRecipient.school_id == school, MessageRecipient.student_id == student_id
            )
        ).scalars()
    )
    if not message_ids:
        return 0  # most students were never written to alone: no more round trips
    erased = _delete(session, MessageRecipient, school, MessageRecipient.student_id == student_id)
    still_addressed = set(
        session.execute(
            select(MessageRecipient.message_id).where(
                MessageRecipient.school_id == school, MessageRecipient.message_id.in_(message_ids)
            )
        ).scalars()
    )
    orphans = [message_id for message_id in message_ids if message_id not in still_addressed]
    return erased + _delete(session, Message, school, Message.message_id.in_(orphans))


def _erase_individual_homework(session: Session, school: str, student_id: str) -> int:
    """Individual homework forgets the student; set for them alone, it goes."""
    erased = 0
    rows = session.scalars(
        select(Homework).where(
            Homework.school_id == school, Homework.student_ids.contains(student_id)
        )
    )
    for homework in rows:
        others = [s for s in (homework.student_ids or "").split() if s != student_id]
        if others:
            homework.student_ids = " ".join(others)
        else:
            session.delete(homework)
        erased += 1
    session.flush()
    return erased


def _erase_acknowledgements(session: Session, school: str, person_id: str) -> int:
    about = or_(Acknowledgement.guardian_id == person_id, Acknowledgement.student_id == person_id)
    return _delete(session, Acknowledgement, school, about)


def _erase_access_copies(session: Session, school: str, person_id: str) -> int:
    erased = 0
    for table in (Guardianship, Agreement):
        about = or_(table.guardian_id == person_id, table.student_id == person_id)
        erased += _delete(session, table, school, about)
    return erased


def _erase_logged_copies(session: Session, school: str, person_id: str) -> int:
    """Drop every logged event about the person; one about others too loses only them."""
    entities = session.execute(
        select(LoggedEventPerson.entity_type, LoggedEventPerson.entity_id)
        .where(LoggedEventPerson.school_id == school, LoggedEventPerson.person_id == person_id)
        .union(
            select(LoggedEvent.entity_type, LoggedEvent.entity_id).where(
                LoggedEvent.school_id == school, LoggedEvent.person_id == person_id
            )
        )
    ).all()
    if not entities:
        return 0  # nothing logged about the person, so no index rows either
    erased = 0
    for entity_type, entity_id in entities:
        logged = session.get(LoggedEvent, (school, entity_type, entity_id))
        if logged is None:
            continue
        envelope = json.loads(logged.body)
        remaining = _without(envelope["data"], person_id)
        if remaining is None:
            session.delete(logged)
        else:
            envelope["data"] = remaining
            logged.body = json.dumps(envelope, ensure_ascii=False)
        erased += 1
    _delete(session, LoggedEventPerson, school, LoggedEventPerson.person_id == person_id)
    return erased


def _without(data: dict[str, Any], person_id: str) -> dict[str, Any] | None:
    """The event's data without the person, or None when the event is about them."""
    if "finals" in data:
        finals = [final for final in data["finals"] if final["student_id"] != person_id]
        return {**data, "finals": finals} if finals else None
    addressed = data.get("student_ids")
    if addressed and "person_id" not in data:
        others = [s for s in addressed if s != person_id]
        return {**data, "student_ids": others} if others else None
    return None


def _delete(session: Session, table: Any, school: str, condition: Any) -> int:
    result = session.execute(delete(table).where(table.school_id == school, condition))
    return int(result.rowcount or 0)
