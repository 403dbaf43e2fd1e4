"""A service's part of an erasure (DESIGN §4), written once for every participant.

A participant supplies one function that destroys the requested subjects' data of the
requested categories in the handler's transaction and says how many records of each
category it destroyed and what it retained (with the legal basis). This module turns
that function into the handler of `consent.erasure.requested`: it buries each subject
(so late events about them are dropped) and confirms with `<service>.erasure.completed`
in the same transaction. Erasing twice is harmless and confirms again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from schoolkit import tombstones
from schoolkit.consumer import Handler
from schoolkit.events import Event
from schoolkit.outbox import publish

REQUESTED = "consent.erasure.requested"


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
        return [subject.subject_id for subject in self.subjects]

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

    def count(self, category: str, destroyed: int) -> None:
        self.counts[category] = self.counts.get(category, 0) + destroyed


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
        if holds is None or holds <= request.covered_categories:
            for subject_id in request.subject_ids:
                tombstones.bury(session, subject_id, request.erasure_id)
        publish(session, completion_event(service, request, outcome))

    handle.__name__ = f"erase_{service}_data"
    return handle


def completion_event(service: str, request: ErasureRequest, outcome: ErasureOutcome) -> Event:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    retained = {kept.category: kept for kept in outcome.retained}
    return Event(
        type=f"{service}.erasure.completed",
        school_id=request.school_id,
        data={
            "erasure_id": request.erasure_id,
            "participant": service,
            "counts": dict(sorted(outcome.counts.items())),
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
