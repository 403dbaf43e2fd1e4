"""A service's part of an erasure (DESIGN §4), written once for every participant.

A participant supplies one function that destroys the requested subjects' data of the
requested categories in the handler's transaction and says how many records of each
category it destroyed and what it retained (with the legal basis). This module turns
that function into the handler of `consent.erasure.requested`: it buries each subject
(so late events about them are dropped), deletes the unsent events about them, and
confirms with `<service>.erasure.completed` in the same transaction. Erasing twice is
harmless and confirms again.

Everything happens within the erasure's school (DESIGN §4 6a): the function must touch
only that school's rows, the tombstones are that school's, and only students and
guardians are ever erased. A subject named as anything else, or one the function
refuses (`ErasureOutcome.refuse`: identity refuses anyone who is not, in that school,
the student or guardian the request says), is neither erased nor buried, and the
completion counts them as `refused_subjects`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from schoolkit import tombstones
from schoolkit.consumer import Handler
from schoolkit.events import Event
from schoolkit.outbox import publish
from schoolkit.tables import outbox

REQUESTED = "consent.erasure.requested"
# The completion's count of subjects a participant refused to erase.
REFUSED = "refused_subjects"


# Only these are ever erased: a request naming staff is refused, whoever sent it.
ERASABLE_KINDS = frozenset({"student", "guardian"})


@dataclass(frozen=True)
class Subject:
    subject_id: str
    kind: str  # student, guardian, staff


@dataclass(frozen=True)
class Retention:
    category: str
    basis: str
    until: str | None = None  # ISO date

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> Retention:
        return cls(item["category"], item["basis"], item.get("until"))

    def to_dict(self) -> dict[str, str]:
        kept = {"category": self.category, "basis": self.basis}
        if self.until:
            kept["until"] = self.until
        return kept


@dataclass(frozen=True)
class ErasureRequest:
    """What `consent.erasure.requested` asks of every participant."""

    erasure_id: str
    school_id: str
    subjects: tuple[Subject, ...]
    reason: str
    categories: frozenset[str]
    retain: tuple[Retention, ...]
    attempt: int

    @classmethod
    def from_event(cls, event: Event) -> ErasureRequest:
        data = event.data
        return cls(
            erasure_id=data["erasure_id"],
            school_id=event.school_id,
            subjects=tuple(Subject(s["subject_id"], s["kind"]) for s in data["subjects"]),
            reason=data["reason"],
            categories=frozenset(data["categories"]),
            retain=tuple(Retention.from_dict(item) for item in data.get("retain", [])),
            attempt=data.get("attempt", 1),
        )

    @property
    def subject_ids(self) -> list[str]:
        """The subjects a participant may erase: the students and guardians named."""
        return [s.subject_id for s in self.subjects if s.kind in ERASABLE_KINDS]

    @property
    def unerasable_ids(self) -> list[str]:
        """Subjects named as anything else (staff): never erased, never buried."""
        return [s.subject_id for s in self.subjects if s.kind not in ERASABLE_KINDS]

    def ids_of(self, kind: str) -> list[str]:
        return [subject.subject_id for subject in self.subjects if subject.kind == kind]

    @property
    def covered_categories(self) -> frozenset[str]:
        """What the request erases or names as retained."""
        return self.categories | {kept.category for kept in self.retain}

    def asks_for(self, category: str) -> bool:
        return category in self.categories

    def retention_of(self, category: str) -> Retention | None:
        return next((kept for kept in self.retain if kept.category == category), None)


@dataclass
class ErasureOutcome:
    """What a participant destroyed (records per category) and what it kept, and why."""

    counts: dict[str, int] = field(default_factory=dict)
    retained: list[Retention] = field(default_factory=list)
    # Subjects the participant would not erase (not a guardian or student of the school):
    # neither erased nor buried, and counted in the completion as `refused_subjects`.
    refused: set[str] = field(default_factory=set)

    def count(self, category: str, destroyed: int) -> None:
        self.counts[category] = self.counts.get(category, 0) + destroyed

    def refuse(self, subject_ids: Iterable[str]) -> None:
        self.refused.update(subject_ids)


Eraser = Callable[[Session, ErasureRequest], ErasureOutcome]


def erasure_handler(service: str, erase: Eraser, holds: frozenset[str] | None = None) -> Handler:
    """The handler of `consent.erasure.requested` for `service`, around its `erase`.

    `holds` names the data categories the service keeps. The subjects are buried (later
    events about them dropped) only when the request covers all of them, erased or
    retained: a diary agreement that ends stops the diary, not the journal. Without
    `holds`, every request buries its subjects.
    """

    def handle(session: Session, event: Event) -> None:
        request = ErasureRequest.from_event(event)
        outcome = erase(session, request)
        outcome.refuse(request.unerasable_ids)
        erased = [s for s in request.subject_ids if s not in outcome.refused]
        if holds is None or holds <= request.covered_categories:
            for subject_id in erased:
                tombstones.bury(session, subject_id, request.erasure_id, request.school_id)
            drop_unsent_events_about(session, request.school_id, erased)
        publish(session, completion_event(service, request, outcome))

    handle.__name__ = f"erase_{service}_data"
    return handle


def drop_unsent_events_about(session: Session, school_id: str, subject_ids: list[str]) -> int:
    """Delete the outbox rows of `school_id` about the erased people, before they are sent.

    An event not sent yet would carry their data past the erasure (and one that a broker
    cannot route is retried for ever). Gone are the events whose subject is one of them or
    whose data names one of them in a field of its own; an event that lists them among
    others (a class's final marks) stays, since the others need it, and its consumers drop
    the erased from it by their tombstones. Events that only take access away (the
    deny-list's, which an erasure itself sends) and erasure events stay.
    """
    if not subject_ids:
        return 0
    mentioning = or_(*(outbox.c.body.contains(s, autoescape=True) for s in subject_ids))
    candidates = session.execute(
        select(outbox.c.id, outbox.c.event_type, outbox.c.body).where(mentioning)
    )
    erased = set(subject_ids)
    doomed = [
        row.id
        for row in candidates
        if not tombstones.exempt_from_tombstones(row.event_type)
        and is_about_any(json.loads(row.body), school_id, erased)
    ]
    if doomed:
        session.execute(delete(outbox).where(outbox.c.id.in_(doomed)))
    return len(doomed)


def is_about_any(envelope: Mapping[str, Any], school_id: str, erased: set[str]) -> bool:
    """An event of `school_id` whose subject, or a field of its own, is one of `erased`."""
    if envelope.get("school_id") != school_id:
        return False
    if envelope.get("subject") in erased:
        return True
    data = envelope.get("data") or {}
    return any(isinstance(value, str) and value in erased for value in data.values())


def completion_event(service: str, request: ErasureRequest, outcome: ErasureOutcome) -> Event:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    retained = {kept.category: kept for kept in outcome.retained}
    counts = dict(outcome.counts)
    if outcome.refused:
        # Said in the completion, so the act shows that someone named was not erased.
        counts[REFUSED] = len(outcome.refused)
    return Event(
        type=f"{service}.erasure.completed",
        school_id=request.school_id,
        data={
            "erasure_id": request.erasure_id,
            "participant": service,
            "counts": dict(sorted(counts.items())),
            "retained": [kept.to_dict() for kept in retained.values()],
            "completed_at": now,
        },
    )


__all__ = [
    "REQUESTED",
    "Eraser",
    "ErasureOutcome",
    "ErasureRequest",
    "Retention",
    "Subject",
    "erasure_handler",
]
