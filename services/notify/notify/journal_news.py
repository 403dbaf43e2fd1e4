"""The journal's and consent's events that families hear about (R-NTF-1, R-NTF-2, R-CON-4):
one function per event type, each saying which children the news is about."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from notify import categories as c
from notify.config import DeliveryConfig
from notify.copies import end_agreement, students_of, students_of_school
from notify.models import Holidays
from notify.news import Item, Occasion, announce, queue_for_guardian, revise, withdraw
from schoolkit.consumer import Handler
from schoolkit.events import Event
from schoolkit.ordering import accept_version

LESSON_CHANGES = {
    "cancellation": c.LESSON_CANCELLED,
    "transfer": c.LESSON_MOVED,
    "substitution": c.LESSON_SUBSTITUTED,
}


def _actors(event: Event, *keys: str) -> frozenset[str]:
    return frozenset(str(event.data[key]) for key in keys if event.data.get(key))


def _newer(session: Session, kind: str, event: Event, key: str) -> bool:
    return accept_version(session, kind, event.data[key], event.data["entity_version"])


def _mark_item(event: Event) -> Item:
    data = event.data
    facts = {
        key: str(data[key])
        for key in ("value", "work_type", "lesson_date", "school_subject_id", "comment")
        if key in data
    }
    return Item(c.MARK, data["student_id"], facts, topic=f"mark:{data['mark_id']}")


def mark_recorded(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    if not _newer(session, "mark", event, "mark_id"):
        return "stale"
    announce(session, Occasion(event, _actors(event, "teacher_id")), [_mark_item(event)], config)
    return None


def mark_corrected(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    if not _newer(session, "mark", event, "mark_id"):
        return "stale"
    item = _mark_item(event)
    item.facts["change"] = "corrected"
    revise(session, Occasion(event, _actors(event, "corrected_by", "teacher_id")), item, config)
    return None


def mark_removed(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    if not _newer(session, "mark", event, "mark_id"):
        return "stale"
    data = event.data
    item = Item(c.MARK, data["student_id"], {"change": "removed"}, topic=f"mark:{data['mark_id']}")
    withdraw(session, Occasion(event, _actors(event, "removed_by")), item, config)
    return None


def attendance_recorded(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    """An absence or lateness; marked present after all, the unsent news is withdrawn."""
    if not _newer(session, "attendance", event, "attendance_id"):
        return "stale"
    data = event.data
    facts = {key: str(data[key]) for key in ("status", "reason", "lesson_date") if key in data}
    item = Item(c.ABSENCE, data["student_id"], facts, topic=f"attendance:{data['attendance_id']}")
    occasion = Occasion(event)
    if data["status"] == "present":
        facts = {**facts, "change": "removed"}  # told already: the mark is taken back
        withdraw(session, occasion, Item(c.ABSENCE, item.student_id, facts, item.topic), config)
    else:
        revise(session, occasion, item, config)
    return None


def lesson_changed(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    data = event.data
    if not _newer(session, "lesson", event, "lesson_id"):
        return "stale"
    category = LESSON_CHANGES.get(data["change"])
    if data["change"] == "control_test" and data.get("control_form"):
        category = c.CONTROL_TEST
    if category is None:
        return "ignored"
    facts = {
        key: str(data[key])
        for key in ("date", "slot", "starts_at", "control_form", "school_subject_id")
        if key in data
    }
    students = students_of(session, event.school_id, data["class_id"], data.get("group_id"))
    items = [Item(category, student, facts) for student in students]
    announce(session, Occasion(event, _actors(event, "teacher_id")), items, config)
    return None


def homework_assigned(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    data = event.data
    if not _newer(session, "homework", event, "homework_id"):
        return "stale"
    students = data.get("student_ids") or students_of(
        session, event.school_id, data["class_id"], data.get("group_id")
    )
    facts = {"text": data["text"], "due_on": data["due_on"]}
    occasion = Occasion(event, _actors(event, "teacher_id"))
    for student in students:
        # One topic per child: twins' mother hears of each child's homework.
        topic = f"homework:{data['homework_id']}:{student}"
        revise(session, occasion, Item(c.HOMEWORK, student, facts, topic), config)
    return None


def period_finalized(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    data = event.data
    if not _newer(session, "finalization", event, "finalization_id"):
        return "stale"
    base = {"school_subject_id": data["school_subject_id"], "period_id": data["period_id"]}
    items = [
        Item(c.FINAL_MARK, final["student_id"], {**base, "value": str(final["value"])})
        for final in data["finals"]
    ]
    announce(session, Occasion(event, _actors(event, "finalized_by")), items, config)
    return None


def calendar_changed(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    """Holidays that differ from those families were last told of are news for the school."""
    data = event.data
    if not _newer(session, "calendar", event, "year_id"):
        return "stale"
    ranges = [
        {"name": h["name"], "starts_on": h["starts_on"], "ends_on": h["ends_on"]}
        for h in data["holidays"]
    ]
    known = session.scalars(select(Holidays).where(Holidays.year_id == data["year_id"])).first()
    if known is not None and known.ranges == ranges:
        return "ignored"
    session.merge(Holidays(year_id=data["year_id"], school_id=event.school_id, ranges=ranges))
    facts = {"holidays": "; ".join(f"{h['name']}: {h['starts_on']}–{h['ends_on']}" for h in ranges)}
    students = students_of_school(session, event.school_id)
    announce(session, Occasion(event), [Item(c.HOLIDAYS, s, facts) for s in students], config)
    return None


def message_sent(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    data = event.data
    if not _newer(session, "message", event, "message_id"):
        return "stale"
    students = data.get("student_ids") or students_of(
        session, event.school_id, data["class_id"], data.get("group_id")
    )
    facts = {"kind": data["kind"], "text": data["text"]}
    items = [Item(c.TEACHER_MESSAGE, student, facts) for student in students]
    announce(session, Occasion(event, _actors(event, "teacher_id")), items, config)
    return None


def agreement_terminated(session: Session, event: Event, config: DeliveryConfig) -> str | None:
    """R-CON-4, R-NTF-3: the school's termination is a legal notice to that guardian; one
    the guardian made themself needs none."""
    outcome = end_agreement(session, event)
    data = event.data
    if outcome is not None or data["by"] != "school":
        return outcome
    item = Item(c.AGREEMENT_TERMINATED, data["student_id"], {"effective_at": data["effective_at"]})
    # The notice goes even as the agreement ends: it is about the ending itself.
    queue_for_guardian(session, Occasion(event), data["guardian_id"], item, config)
    return None


NewsHandler = Callable[[Session, Event, DeliveryConfig], str | None]

NEWS: dict[str, NewsHandler] = {
    "journal.mark.recorded": mark_recorded,
    "journal.mark.corrected": mark_corrected,
    "journal.mark.removed": mark_removed,
    "journal.attendance.recorded": attendance_recorded,
    "journal.lesson.changed": lesson_changed,
    "journal.homework.assigned": homework_assigned,
    "journal.period.finalized": period_finalized,
    "journal.calendar.changed": calendar_changed,
    "journal.message.sent": message_sent,
    "consent.agreement.terminated": agreement_terminated,
}


def news_handlers(config: DeliveryConfig) -> dict[str, Handler]:
    def bind(handler: NewsHandler) -> Handler:
        return lambda session, event: handler(session, event, config)

    return {event_type: bind(handler) for event_type, handler in NEWS.items()}
