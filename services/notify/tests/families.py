"""A school as notify hears of it: children with names and classes, guardians with
addresses, links and diary agreements, and the journal's events about them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.models import Delivery
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.times import school_zone

from .events import contact_changed, event, guardian_linked, new_id


def away_from_now(hours: int) -> tuple[str, str]:
    """A one-hour window `hours` from now on the school's clock: quiet hours that hold
    nothing (a test runs at any hour) or, with 0, quiet hours that hold everything."""
    local = datetime.now(UTC).astimezone(school_zone())
    start = (local + timedelta(hours=hours)).replace(minute=0)
    if hours == 0:
        start = local - timedelta(minutes=30)
    end = start + timedelta(hours=1)
    return start.strftime("%H:%M"), end.strftime("%H:%M")


def news_config(base: DeliveryConfig, **overrides: Any) -> DeliveryConfig:
    quiet_from, quiet_until = away_from_now(6)
    values: dict[str, Any] = {
        "quiet_from": quiet_from,
        "quiet_until": quiet_until,
        "mark_settle_seconds": 0.0,
    }
    values.update(overrides)
    return replace(base, **values)


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class School:
    database: Database
    config: DeliveryConfig
    class_id: str = field(default_factory=new_id)
    teacher: str = field(default_factory=new_id)
    agreements: dict[tuple[str, str], str] = field(default_factory=dict)

    def hear(self, *events: Event) -> None:
        handlers = build_handlers(self.config)
        for incoming in events:
            with self.database.transaction() as session:
                handlers[incoming.type](session, incoming)

    def child(self, first: str, last: str, class_id: str | None = None) -> str:
        student = new_id()
        self.hear(
            event(
                "identity.person.changed",
                student,
                person_id=student,
                first_name=first,
                last_name=last,
                entity_version=1,
            ),
            event(
                "journal.student.enrolled",
                student,
                enrolment_id=new_id(),
                student_id=student,
                class_id=class_id or self.class_id,
                group_ids=[],
                entity_version=1,
            ),
        )
        return student

    def guardian(
        self, email: str, *children: str, phone: str | None = None, agreed: bool = True
    ) -> str:
        guardian = new_id()
        self.hear(contact_changed(guardian, email, phone))
        for student in children:
            self.hear(guardian_linked(guardian, student))
            if agreed:
                self.conclude(guardian, student)
        return guardian

    def conclude(self, guardian: str, student: str) -> str:
        agreement = new_id()
        self.agreements[(guardian, student)] = agreement
        self.hear(
            event(
                "consent.agreement.concluded",
                student,
                agreement_id=agreement,
                guardian_id=guardian,
                student_id=student,
                entity_version=1,
            )
        )
        return agreement

    def terminate(self, guardian: str, student: str, by: str, effective: datetime) -> None:
        self.hear(
            event(
                "consent.agreement.terminated",
                student,
                agreement_id=self.agreements[(guardian, student)],
                guardian_id=guardian,
                student_id=student,
                by=by,
                effective_at=instant(effective),
                registered_at=instant(datetime.now(UTC)),
                entity_version=2,
            )
        )

    def deliveries(self, **where: str) -> list[Delivery]:
        with self.database.transaction() as session:
            query = select(Delivery).order_by(Delivery.created_at)
            for key, value in where.items():
                query = query.where(getattr(Delivery, key) == value)
            return list(session.scalars(query))


def mark(
    student: str,
    value: int | str,
    *,
    mark_id: str,
    teacher: str,
    version: int = 1,
    change: str = "recorded",
) -> Event:
    if change == "removed":
        return event(
            "journal.mark.removed",
            student,
            mark_id=mark_id,
            student_id=student,
            removed_by=teacher,
            entity_version=version,
        )
    data: dict[str, Any] = {
        "mark_id": mark_id,
        "student_id": student,
        "teacher_id": teacher,
        "value": value,
        "entity_version": version,
    }
    if change == "corrected":
        data["corrected_by"] = teacher
    return event(f"journal.mark.{change}", student, **data)


def absence(student: str, status: str = "absent", attendance_id: str | None = None) -> Event:
    return event(
        "journal.attendance.recorded",
        student,
        attendance_id=attendance_id or new_id(),
        student_id=student,
        status=status,
        entity_version=1,
    )


def lesson_changed(class_id: str, change: str, teacher: str, **extra: Any) -> Event:
    return event(
        "journal.lesson.changed",
        lesson_id=new_id(),
        class_id=class_id,
        change=change,
        teacher_id=teacher,
        status="cancelled" if change == "cancellation" else "scheduled",
        entity_version=1,
        **extra,
    )


def homework(class_id: str, teacher: str, text: str) -> Event:
    return event(
        "journal.homework.assigned",
        homework_id=new_id(),
        class_id=class_id,
        teacher_id=teacher,
        text=text,
        entity_version=1,
    )
