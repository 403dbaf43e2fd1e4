"""Contract-valid events of one school, for the diary's tests.

Small, hand-made schools: the events the journal, identity and consent send, made from
the canonical examples in contracts/, each validated against its schema before it is
used. (The benchmark's school is the journal's generated year: bench/diary/year.py.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from schoolkit.contracts import Contracts, load_contracts
from schoolkit.events import Event
from schoolkit.settings import project_root


def new_id() -> str:
    return str(uuid.uuid4())


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return instant(datetime.now(UTC))


@dataclass
class SchoolEvents:
    """Builds events of one school; ids are fresh unless given."""

    school_id: str = "school-254"
    year_id: str = field(default_factory=new_id)
    period_id: str = field(default_factory=new_id)
    contracts: Contracts = field(
        default_factory=lambda: load_contracts(project_root() / "contracts")
    )

    def event(self, event_type: str, subject: str | None = None, **data: Any) -> Event:
        example = self.contracts.example(event_type)
        merged = {**example["data"], **data}
        merged = {key: value for key, value in merged.items() if value is not None}
        event = Event(type=event_type, data=merged, school_id=self.school_id, subject=subject)
        self.contracts.validate(event.to_dict())
        return event

    # journal: class-level

    def calendar(
        self,
        starts_on: date,
        ends_on: date,
        holidays: list[tuple[str, date, date]] = (),
        version: int = 1,
    ) -> Event:
        return self.event(
            "journal.calendar.changed",
            year_id=self.year_id,
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat(),
            periods=[
                {
                    "period_id": self.period_id,
                    "kind": "half_year",
                    "name": "1 полугодие",
                    "starts_on": starts_on.isoformat(),
                    "ends_on": ends_on.isoformat(),
                }
            ],
            holidays=[
                {
                    "holiday_id": new_id(),
                    "name": name,
                    "starts_on": a.isoformat(),
                    "ends_on": b.isoformat(),
                }
                for name, a, b in holidays
            ],
            entity_version=version,
        )

    def subject(self, subject_id: str, name: str, version: int = 1) -> Event:
        return self.event(
            "journal.subject.changed",
            school_subject_id=subject_id,
            name=name,
            short_name=name[:10],
            change="created",
            entity_version=version,
        )

    def school_class(
        self, class_id: str, name: str, class_teacher_id: str | None, version: int = 1
    ) -> Event:
        return self.event(
            "journal.class.changed",
            class_id=class_id,
            year_id=self.year_id,
            name=name,
            class_teacher_id=class_teacher_id,
            change="created",
            entity_version=version,
        )

    def lesson(
        self,
        lesson_id: str,
        class_id: str,
        subject_id: str,
        teacher_id: str,
        *,
        day: date,
        slot: int,
        topic: str | None = None,
        homework: str | None = None,
        group_id: str | None = None,
        substituted_teacher_id: str | None = None,
        status: str = "held",
        version: int = 1,
    ) -> Event:
        starts = datetime.combine(day, time(8, 0), UTC) + timedelta(minutes=55 * (slot - 1))
        return self.event(
            "journal.lesson.changed",
            lesson_id=lesson_id,
            change="substitution" if substituted_teacher_id else "scheduled",
            class_id=class_id,
            group_id=group_id,
            school_subject_id=subject_id,
            teacher_id=teacher_id,
            substituted_teacher_id=substituted_teacher_id,
            room_id=None,
            date=day.isoformat(),
            slot=slot,
            starts_at=instant(starts),
            ends_at=instant(starts + timedelta(minutes=45)),
            status=status,
            topic=topic,
            homework=homework,
            changed_at=now_iso(),
            entity_version=version,
        )

    def homework(
        self,
        lesson: Event,
        text: str,
        due_on: date,
        *,
        student_ids: list[str] | None = None,
        version: int = 1,
    ) -> Event:
        data = lesson.data
        return self.event(
            "journal.homework.assigned",
            homework_id=new_id(),
            lesson_id=data["lesson_id"],
            class_id=data["class_id"],
            group_id=data.get("group_id"),
            school_subject_id=data["school_subject_id"],
            teacher_id=data["teacher_id"],
            student_ids=student_ids,
            assigned_on=data["date"],
            due_on=due_on.isoformat(),
            text=text,
            assigned_at=now_iso(),
            entity_version=version,
        )

    def message(
        self,
        class_id: str,
        teacher_id: str,
        text: str,
        *,
        student_ids: list[str] | None = None,
        message_id: str | None = None,
    ) -> Event:
        return self.event(
            "journal.message.sent",
            message_id=message_id or new_id(),
            class_id=class_id,
            lesson_id=None,
            school_subject_id=None,
            teacher_id=teacher_id,
            student_ids=student_ids,
            kind="message",
            text=text,
            sent_at=now_iso(),
            entity_version=1,
        )

    # journal: a student's own data

    def enrol(
        self,
        student_id: str,
        class_id: str,
        on: date,
        group_ids: list[str] = (),
        enrolment_id: str | None = None,
    ) -> Event:
        return self.event(
            "journal.student.enrolled",
            subject=student_id,
            enrolment_id=enrolment_id or new_id(),
            student_id=student_id,
            class_id=class_id,
            group_ids=list(group_ids),
            individual_plan=False,
            enrolled_on=on.isoformat(),
            entity_version=1,
        )

    def transfer(self, enrolled: Event, to_class_id: str, on: date, version: int = 2) -> Event:
        data = enrolled.data
        return self.event(
            "journal.student.transferred",
            subject=data["student_id"],
            enrolment_id=data["enrolment_id"],
            student_id=data["student_id"],
            from_class_id=data["class_id"],
            to_class_id=to_class_id,
            group_ids=[],
            transferred_on=on.isoformat(),
            entity_version=version,
        )

    def mark(
        self,
        student_id: str,
        lesson: Event,
        value: int | str,
        *,
        weight: float = 1,
        work_type: str = "oral",
        mark_id: str | None = None,
        version: int = 1,
    ) -> Event:
        data = lesson.data
        return self.event(
            "journal.mark.recorded",
            subject=student_id,
            mark_id=mark_id or new_id(),
            student_id=student_id,
            lesson_id=data["lesson_id"],
            lesson_date=data["date"],
            period_id=self.period_id,
            class_id=data["class_id"],
            school_subject_id=data["school_subject_id"],
            teacher_id=data["teacher_id"],
            work_type=work_type,
            weight=weight,
            scale="five_point",
            value=value,
            recorded_at=now_iso(),
            entity_version=version,
        )

    def mark_corrected(self, recorded: Event, value: int | str, version: int = 2) -> Event:
        data = {k: v for k, v in recorded.data.items() if k != "recorded_at"}
        data.update(
            value=value,
            corrected_at=now_iso(),
            corrected_by=recorded.data["teacher_id"],
            comment="Исправлено",
            entity_version=version,
        )
        return self.event("journal.mark.corrected", subject=recorded.subject, **data)

    def mark_removed(self, recorded: Event, version: int = 3) -> Event:
        data = recorded.data
        return self.event(
            "journal.mark.removed",
            subject=recorded.subject,
            mark_id=data["mark_id"],
            student_id=data["student_id"],
            lesson_id=data["lesson_id"],
            removed_at=now_iso(),
            removed_by=data["teacher_id"],
            entity_version=version,
        )

    def attendance(
        self, student_id: str, lesson: Event, status: str, reason: str | None = None
    ) -> Event:
        data = lesson.data
        return self.event(
            "journal.attendance.recorded",
            subject=student_id,
            attendance_id=new_id(),
            student_id=student_id,
            lesson_id=data["lesson_id"],
            lesson_date=data["date"],
            class_id=data["class_id"],
            school_subject_id=data["school_subject_id"],
            status=status,
            reason=reason,
            recorded_at=now_iso(),
            entity_version=1,
        )

    def finals(self, class_id: str, subject_id: str, values: dict[str, int]) -> Event:
        return self.event(
            "journal.period.finalized",
            finalization_id=new_id(),
            period_id=self.period_id,
            class_id=class_id,
            school_subject_id=subject_id,
            finals=[
                {"student_id": s, "scale": "five_point", "value": v} for s, v in values.items()
            ],
            finalized_at=now_iso(),
            entity_version=1,
        )

    def student_snapshot(
        self,
        student_id: str,
        marks: list[Event],
        attendance: list[Event],
        request_id: str,
        *,
        enrolments: list[Event] = (),
        finalizations: list[Event] = (),
    ) -> Event:
        """The journal's answer to diary.backfill.requested, from the events it stands for."""
        return self.event(
            "journal.student.snapshot",
            subject=student_id,
            student_id=student_id,
            year_id=self.year_id,
            request_id=request_id,
            taken_at=now_iso(),
            enrolments=[
                {
                    "enrolment_id": e.data["enrolment_id"],
                    "spans": [
                        {
                            "class_id": e.data["class_id"],
                            "group_ids": e.data["group_ids"],
                            "starts_on": e.data["enrolled_on"],
                        }
                    ],
                    "entity_version": e.data["entity_version"],
                }
                for e in enrolments
            ],
            marks=[mark.data for mark in marks],
            attendance=[record.data for record in attendance],
            finals=[
                {
                    "finalization_id": f.data["finalization_id"],
                    "period_id": f.data["period_id"],
                    "school_subject_id": f.data["school_subject_id"],
                    "scale": final["scale"],
                    "value": final["value"],
                    "entity_version": f.data["entity_version"],
                }
                for f in finalizations
                for final in f.data["finals"]
                if final["student_id"] == student_id
            ],
        )

    # identity

    def person_snapshot(self, changed: Event, request_id: str, version: int | None = None) -> Event:
        """Identity's answer to diary.backfill.requested for the person of `changed`."""
        data = {k: v for k, v in changed.data.items() if k not in ("roles", "change")}
        data["entity_version"] = version or data["entity_version"]
        data.setdefault("middle_name", None)
        data.setdefault("birth_date", None)
        return self.event(
            "identity.person.snapshot", subject=changed.subject, request_id=request_id, **data
        )

    def person(
        self, person_id: str, kind: str, last_name: str, first_name: str, version: int = 1
    ) -> Event:
        roles = {"staff": ["subject_teacher"], "guardian": ["guardian"], "student": ["student"]}
        return self.event(
            "identity.person.changed",
            subject=person_id,
            person_id=person_id,
            kind=kind,
            roles=roles[kind],
            last_name=last_name,
            first_name=first_name,
            middle_name=None,
            birth_date="2012-04-17" if kind == "student" else None,
            change="created" if version == 1 else "updated",
            entity_version=version,
        )

    def guardian_linked(
        self, guardian_id: str, student_id: str, link_id: str | None = None
    ) -> Event:
        return self.event(
            "identity.guardian.linked",
            subject=student_id,
            guardianship_id=link_id or new_id(),
            guardian_id=guardian_id,
            student_id=student_id,
            linked_at=now_iso(),
            entity_version=1,
        )

    def guardian_unlinked(self, linked: Event) -> Event:
        data = linked.data
        return self.event(
            "identity.guardian.unlinked",
            subject=data["student_id"],
            guardianship_id=data["guardianship_id"],
            guardian_id=data["guardian_id"],
            student_id=data["student_id"],
            reason="guardianship_ended",
            unlinked_at=now_iso(),
            entity_version=2,
        )

    # consent

    def agreement(
        self, guardian_id: str, student_id: str, agreement_id: str | None = None
    ) -> Event:
        return self.event(
            "consent.agreement.concluded",
            subject=student_id,
            agreement_id=agreement_id or new_id(),
            guardian_id=guardian_id,
            student_id=student_id,
            concluded_at=now_iso(),
            entity_version=1,
        )

    def termination(self, concluded: Event, effective_at: datetime | None = None) -> Event:
        data = concluded.data
        return self.event(
            "consent.agreement.terminated",
            subject=data["student_id"],
            agreement_id=data["agreement_id"],
            guardian_id=data["guardian_id"],
            student_id=data["student_id"],
            by="guardian",
            effective_at=instant(effective_at or datetime.now(UTC)),
            registered_at=now_iso(),
            entity_version=2,
        )

    def revocation(self, guardian_id: str, student_id: str) -> Event:
        return self.event(
            "consent.revoked",
            subject=student_id,
            consent_id=new_id(),
            guardian_id=guardian_id,
            student_id=student_id,
            received_at=now_iso(),
            entity_version=2,
        )

    def erasure(
        self,
        students: list[str] = (),
        guardians: list[str] = (),
        reason: str = "consent_revoked",
        categories: list[str] | None = None,
    ) -> Event:
        """The request; `categories` defaults to the contract example's (a revocation's)."""
        subjects = [{"subject_id": s, "kind": "student"} for s in students]
        subjects += [{"subject_id": g, "kind": "guardian"} for g in guardians]
        extra = {} if categories is None else {"categories": categories, "retain": []}
        return self.event(
            "consent.erasure.requested",
            erasure_id=new_id(),
            subjects=subjects,
            reason=reason,
            **extra,
        )


@dataclass
class Family:
    """A covered student: enrolled, linked to a guardian who concluded a diary agreement."""

    student_id: str
    guardian_id: str
    class_id: str
    events: list[Event]


def covered_family(
    school: SchoolEvents, class_id: str, on: date, *, names: tuple[str, str] = ("Иванова", "Мария")
) -> Family:
    student_id, guardian_id = new_id(), new_id()
    events = [
        school.guardian_linked(guardian_id, student_id),
        school.agreement(guardian_id, student_id),
        school.enrol(student_id, class_id, on),
        school.person(student_id, "student", *names),
        school.person(guardian_id, "guardian", names[0], "Ольга"),
    ]
    return Family(student_id, guardian_id, class_id, events)
