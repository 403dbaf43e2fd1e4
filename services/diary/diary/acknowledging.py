"""Acknowledgements (R-DRY-5): a guardian confirms having read the diary, or one item of it.

The acknowledgement is stored and `diary.acknowledged` published in one transaction.
Class teachers see, for their class, which guardians have and have not acknowledged
the diary up to a date, and since when.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from diary import changes
from diary.access import StudentDiary
from diary.gate import in_force
from diary.models import (
    Acknowledgement,
    Agreement,
    EnrolmentSpan,
    Guardianship,
    Homework,
    Lesson,
    Person,
)
from diary.reading import FAR_FUTURE, _full_name, own_mark, visible_message
from schoolkit.errors import ApiError
from schoolkit.events import Event
from schoolkit.outbox import publish


def acknowledge(
    session: Session, diary: StudentDiary, guardian_id: str, request: dict[str, Any]
) -> Acknowledgement:
    now = datetime.now(UTC)
    if request["scope"] == "diary":
        until = request["until"]
        if until > now.date():
            raise ApiError(
                422,
                "acknowledging_the_future",
                "A diary can be acknowledged only up to today.",
                {"until": "Must not be after today."},
            )
        acknowledgement = _new(diary, guardian_id, "diary", now, until=until)
    else:
        item = request["item"]
        _require_visible_item(session, diary, item["type"], item["id"])
        acknowledgement = _new(diary, guardian_id, "item", now, item=(item["type"], item["id"]))
    session.add(acknowledgement)
    changes.bump(session, diary.school_id, changes.STUDENT, diary.student_id)
    publish(session, _acknowledged_event(acknowledgement))
    return acknowledgement


def _new(
    diary: StudentDiary,
    guardian_id: str,
    scope: str,
    now: datetime,
    *,
    until: date | None = None,
    item: tuple[str, str] | None = None,
) -> Acknowledgement:
    return Acknowledgement(
        school_id=diary.school_id,
        acknowledgement_id=str(uuid.uuid4()),
        guardian_id=guardian_id,
        student_id=diary.student_id,
        scope=scope,
        until=until,
        item_type=item[0] if item else None,
        item_id=item[1] if item else None,
        acknowledged_at=now,
    )


def _require_visible_item(session: Session, diary: StudentDiary, kind: str, item_id: str) -> None:
    visible = {
        "message": lambda: visible_message(session, diary, item_id),
        "mark": lambda: own_mark(session, diary, item_id),
        "homework": lambda: _class_row(session, Homework, diary, item_id),
        "lesson": lambda: _class_row(session, Lesson, diary, item_id),
    }
    check = visible.get(kind)
    if check is None or not check():
        raise ApiError(
            404, "item_not_found", "This diary has no such item.", {"item.id": "Not in this diary."}
        )


def _class_row(session: Session, table: Any, diary: StudentDiary, item_id: str) -> bool:
    row = session.get(table, (diary.school_id, item_id))
    return row is not None and row.class_id in diary.class_ids


def _acknowledged_event(acknowledgement: Acknowledgement) -> Event:
    data: dict[str, Any] = {
        "acknowledgement_id": acknowledgement.acknowledgement_id,
        "guardian_id": acknowledgement.guardian_id,
        "student_id": acknowledgement.student_id,
        "scope": acknowledgement.scope,
        "acknowledged_at": _instant(acknowledgement.acknowledged_at),
    }
    if acknowledgement.until is not None:
        data["until"] = acknowledgement.until.isoformat()
    if acknowledgement.item_id is not None:
        data["item"] = {"type": acknowledgement.item_type, "id": acknowledgement.item_id}
    return Event(
        type="diary.acknowledged",
        school_id=acknowledgement.school_id,
        subject=acknowledgement.student_id,
        data=data,
    )


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def acknowledgements_of(session: Session, diary: StudentDiary) -> list[Acknowledgement]:
    return list(
        session.scalars(
            select(Acknowledgement)
            .where(
                Acknowledgement.school_id == diary.school_id,
                Acknowledgement.student_id == diary.student_id,
            )
            .order_by(Acknowledgement.acknowledged_at.desc())
        )
    )


def class_overview(
    session: Session, school_id: str, class_id: str, up_to: date
) -> list[dict[str, Any]]:
    """Each covered student in the class now, each of their guardians with access, and
    whether that guardian acknowledged the diary up to `up_to`, and since when."""
    today = date.today()
    students = list(
        session.scalars(
            select(EnrolmentSpan.student_id)
            .where(
                EnrolmentSpan.school_id == school_id,
                EnrolmentSpan.class_id == class_id,
                EnrolmentSpan.starts_on <= today,
                func.coalesce(EnrolmentSpan.ends_on, FAR_FUTURE) >= today,
            )
            .distinct()
        )
    )
    pairs = session.execute(
        select(Agreement.student_id, Agreement.guardian_id)
        .join(
            Guardianship,
            (Guardianship.school_id == Agreement.school_id)
            & (Guardianship.guardian_id == Agreement.guardian_id)
            & (Guardianship.student_id == Agreement.student_id)
            & Guardianship.active.is_(True),
        )
        .where(Agreement.school_id == school_id, Agreement.student_id.in_(students), in_force())
        .distinct()
    ).all()
    latest = _latest_diary_acknowledgements(session, school_id, students)
    names = _names(session, school_id, students + [guardian for _, guardian in pairs])
    guardians: dict[str, list[dict[str, Any]]] = {}
    for student_id, guardian_id in pairs:
        until, since = latest.get((student_id, guardian_id), (None, None))
        guardians.setdefault(student_id, []).append(
            {
                "guardian_id": guardian_id,
                "guardian": names.get(guardian_id),
                "acknowledged": until is not None and until >= up_to,
                "acknowledged_until": until,
                "acknowledged_at": since,
            }
        )
    return sorted(
        (
            {
                "student_id": student_id,
                "student": names.get(student_id),
                "acknowledged": any(g["acknowledged"] for g in guardians[student_id]),
                "guardians": guardians[student_id],
            }
            for student_id in guardians
        ),
        key=lambda entry: entry["student"] or entry["student_id"],
    )


def _latest_diary_acknowledgements(
    session: Session, school_id: str, students: list[str]
) -> dict[tuple[str, str], tuple[date, datetime]]:
    rows = session.execute(
        select(
            Acknowledgement.student_id,
            Acknowledgement.guardian_id,
            Acknowledgement.until,
            Acknowledgement.acknowledged_at,
        )
        .where(
            Acknowledgement.school_id == school_id,
            Acknowledgement.student_id.in_(students),
            Acknowledgement.scope == "diary",
        )
        .order_by(Acknowledgement.until, Acknowledgement.acknowledged_at)
    ).all()
    # Ordered by date read up to: the last row per pair is the furthest one.
    return {(r.student_id, r.guardian_id): (r.until, r.acknowledged_at) for r in rows}


def _names(session: Session, school_id: str, people: list[str]) -> dict[str, str]:
    rows = session.execute(
        select(Person.person_id, Person.last_name, Person.first_name, Person.middle_name).where(
            Person.school_id == school_id, Person.person_id.in_(people)
        )
    )
    return {r.person_id: _full_name(r.last_name, r.first_name, r.middle_name) or "" for r in rows}
