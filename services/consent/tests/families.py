"""What consent must have heard before a consent can name a family: identity's people and
guardianship, the journal's class with its class teacher and the student's enrolment.

The events are the contracts' own (validated here) and go through consent's real handler
table, as the worker applies them; nothing pokes rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from consent.handlers import HANDLERS
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.settings import project_root
from schoolkit.tombstones import is_erased

CONTRACTS = load_contracts(project_root() / "contracts")
ROLES = {"staff": ["class_teacher"], "guardian": ["guardian"], "student": ["student"]}


def new_id() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Family:
    """A guardian linked to a student in `school_id`, the student in `class_id`, whose
    class teacher is `class_teacher_id`."""

    school_id: str
    guardian_id: str
    student_id: str
    class_id: str
    class_teacher_id: str


class World:
    """Consent's view of the other services, fed through its handlers."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._database = Database(database_url)
        self._versions: dict[str, int] = {}
        self._teachers: dict[str, str] = {}

    def apply(self, *events: Event) -> list[str]:
        """Each event in its own transaction, as the consumer would; returns the outcomes."""
        outcomes = []
        for event in events:
            CONTRACTS.validate(event.to_dict())
            with self._database.transaction() as session:
                if is_erased(session, event.school_id, event.subject):
                    outcomes.append("tombstoned")
                    continue
                outcomes.append(HANDLERS[event.type](session, event) or "applied")
        return outcomes

    def close(self) -> None:
        self._database.dispose()

    def _next(self, key: str) -> int:
        self._versions[key] = self._versions.get(key, 0) + 1
        return self._versions[key]

    # --- identity ---------------------------------------------------------------------

    def person_event(self, school: str, person_id: str, kind: str) -> Event:
        data: dict[str, Any] = {
            "person_id": person_id,
            "kind": kind,
            "roles": ROLES[kind],
            "last_name": "Иванова",
            "first_name": "Мария",
            "change": "created",
            "entity_version": self._next(f"person:{person_id}"),
        }
        if kind == "student":
            data["birth_date"] = "2014-03-02"
        return Event("identity.person.changed", data, school, subject=person_id)

    def link_event(self, school: str, guardian_id: str, student_id: str, link_id: str) -> Event:
        data = {
            "guardianship_id": link_id,
            "guardian_id": guardian_id,
            "student_id": student_id,
            "via": "administrator",
            "linked_at": now_iso(),
            "entity_version": self._next(f"link:{link_id}"),
        }
        return Event("identity.guardian.linked", data, school, subject=student_id)

    def unlink_event(self, school: str, guardian_id: str, student_id: str, link_id: str) -> Event:
        data = {
            "guardianship_id": link_id,
            "guardian_id": guardian_id,
            "student_id": student_id,
            "reason": "guardianship_ended",
            "unlinked_at": now_iso(),
            "entity_version": self._next(f"link:{link_id}"),
        }
        return Event("identity.guardian.unlinked", data, school, subject=student_id)

    # --- journal ----------------------------------------------------------------------

    def class_event(
        self, school: str, class_id: str, teacher_id: str | None, change: str = "created"
    ) -> Event:
        data: dict[str, Any] = {
            "class_id": class_id,
            "year_id": new_id(),
            "name": "5А",
            "change": change,
            "changed_at": now_iso(),
            "entity_version": self._next(f"class:{class_id}"),
        }
        if teacher_id:
            data["class_teacher_id"] = teacher_id
        return Event("journal.class.changed", data, school)

    def enrol_event(self, school: str, student_id: str, class_id: str) -> Event:
        data = {
            "enrolment_id": new_id(),
            "student_id": student_id,
            "class_id": class_id,
            "group_ids": [],
            "individual_plan": False,
            "enrolled_on": "2025-09-01",
            "entity_version": self._next(f"enrolment:{student_id}"),
        }
        return Event("journal.student.enrolled", data, school, subject=student_id)

    def transfer_event(self, school: str, student_id: str, from_id: str, to_id: str) -> Event:
        data = {
            "enrolment_id": new_id(),
            "student_id": student_id,
            "from_class_id": from_id,
            "to_class_id": to_id,
            "group_ids": [],
            "transferred_on": "2025-10-01",
            "entity_version": self._next(f"enrolment:{student_id}"),
        }
        return Event("journal.student.transferred", data, school, subject=student_id)

    def leave_event(self, school: str, student_id: str, class_id: str) -> Event:
        data = {
            "enrolment_id": new_id(),
            "student_id": student_id,
            "class_id": class_id,
            "reason": "graduation",
            "left_on": "2026-06-25",
            "entity_version": self._next(f"enrolment:{student_id}"),
        }
        return Event("journal.student.left", data, school, subject=student_id)

    # --- the stories' shorthand -----------------------------------------------------------

    def a_class(self, school: str, teacher_id: str | None = None) -> tuple[str, str]:
        """A class of `school` led by a new (or the given) class teacher."""
        class_id, teacher_id = new_id(), teacher_id or new_id()
        self.apply(self.person_event(school, teacher_id, "staff"))
        self.apply(self.class_event(school, class_id, teacher_id))
        self._teachers[class_id] = teacher_id
        return class_id, teacher_id

    def a_family(
        self,
        school: str,
        *,
        class_id: str | None = None,
        guardian_id: str | None = None,
        student_id: str | None = None,
    ) -> Family:
        """A guardian linked to a student in `school`, the student enrolled in a class
        (a new one with its own class teacher, or `class_id`)."""
        if class_id is None:
            class_id, _ = self.a_class(school)
        guardian_id, student_id = guardian_id or new_id(), student_id or new_id()
        events = [self.person_event(school, student_id, "student")]
        if f"person:{guardian_id}" not in self._versions:
            events.append(self.person_event(school, guardian_id, "guardian"))
        events += [
            self.link_event(school, guardian_id, student_id, new_id()),
            self.enrol_event(school, student_id, class_id),
        ]
        self.apply(*events)
        return Family(school, guardian_id, student_id, class_id, self._teachers[class_id])
