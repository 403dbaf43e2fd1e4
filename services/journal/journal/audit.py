"""The audit chain of journal data (R-SEC-4, R-JRN-11).

Each change appends one entry per school: time, author, action, entity, and a digest of
its before/after values; the entry's hash covers those and the previous entry's hash.
The values themselves sit in `audit_values`, outside the chain, so an erasure deletes
them while the chain stays verifiable. Appending reads the school's head row FOR UPDATE,
which serialises writers of one school (and only of one school).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.models import AuditEntry, AuditHead, AuditValues, new_uuid
from schoolkit.auth import Principal

GENESIS = "0" * 64


@dataclass(frozen=True)
class Verdict:
    entries: int
    first_broken_seq: int | None

    @property
    def intact(self) -> bool:
        return self.first_broken_seq is None


def record(  # noqa: PLR0917 - one call per change reads best with the change's facts in order
    session: Session,
    school_id: str,
    author_id: str,
    action: str,
    entity: str,
    entity_id: str,
    *,
    subject_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    head = session.scalars(
        select(AuditHead).where(AuditHead.school_id == school_id).with_for_update()
    ).first()
    if head is None:
        head = AuditHead(school_id=school_id, seq=0, hash=GENESIS)
        session.add(head)
    entry = AuditEntry(
        school_id=school_id,
        seq=head.seq + 1,
        at=datetime.now(UTC).isoformat(timespec="microseconds"),
        author_id=author_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        values_digest=_digest({"before": before, "after": after}),
        previous_hash=head.hash,
    )
    entry.hash = _hash_of(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    session.flush()
    session.add(
        AuditValues(entry_id=entry.entry_id, subject_id=subject_id, before=before, after=after)
    )


def record_by(
    session: Session,
    caller: Principal,
    action: str,
    entity: str,
    entity_id: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    subject_id: str | None = None,
) -> None:
    """Record the caller's change; dates and ids in the values are kept as their text."""
    record(
        session,
        caller.school_id,
        caller.user_id,
        action,
        entity,
        entity_id,
        subject_id=subject_id,
        before=as_json(before),
        after=as_json(after),
    )


def as_json(values: dict[str, Any] | None) -> dict[str, Any] | None:
    # The values go to a JSON column and into the digest: dates and UUIDs become text.
    return None if values is None else json.loads(json.dumps(values, default=str))


@dataclass(frozen=True)
class Change:
    """One change of many recorded at once (see record_many)."""

    action: str
    entity: str
    entity_id: str
    subject_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record_many(session: Session, school_id: str, author_id: str, changes: list[Change]) -> None:
    """Append many changes of one author in one go: the head is locked once and the entries
    are written in one flush (a generated timetable adds thousands of lessons at once)."""
    if not changes:
        return
    head = session.scalars(
        select(AuditHead).where(AuditHead.school_id == school_id).with_for_update()
    ).first()
    if head is None:
        head = AuditHead(school_id=school_id, seq=0, hash=GENESIS)
        session.add(head)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    values = []
    for change in changes:
        entry = AuditEntry(
            entry_id=new_uuid(),
            school_id=school_id,
            seq=head.seq + 1,
            at=at,
            author_id=author_id,
            action=change.action,
            entity=change.entity,
            entity_id=change.entity_id,
            values_digest=_digest({"before": change.before, "after": change.after}),
            previous_hash=head.hash,
        )
        entry.hash = _hash_of(entry)
        head.seq, head.hash = entry.seq, entry.hash
        session.add(entry)
        values.append(
            AuditValues(
                entry_id=entry.entry_id,
                subject_id=change.subject_id,
                before=change.before,
                after=change.after,
            )
        )
    session.flush()
    session.add_all(values)


def verify(session: Session, school_id: str) -> Verdict:
    """Walk the school's chain; the first entry whose link or hash does not hold."""
    query = select(AuditEntry).where(AuditEntry.school_id == school_id).order_by(AuditEntry.seq)
    previous_hash, expected_seq, count = GENESIS, 1, 0
    for entry in session.scalars(query):
        count += 1
        if entry.seq != expected_seq or entry.previous_hash != previous_hash:
            return Verdict(count, expected_seq)
        if _hash_of(entry) != entry.hash:
            return Verdict(count, entry.seq)
        previous_hash, expected_seq = entry.hash, entry.seq + 1
    head = session.get(AuditHead, school_id)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != previous_hash):
        return Verdict(count, expected_seq)  # entries were cut from the end
    return Verdict(count, None)


def _digest(values: dict[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hash_of(entry: AuditEntry) -> str:
    fields = [
        entry.school_id,
        str(entry.seq),
        entry.at,
        entry.author_id,
        entry.action,
        entry.entity,
        entry.entity_id,
        entry.values_digest,
        entry.previous_hash,
    ]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
