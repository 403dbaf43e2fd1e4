"""Archiving an event: one sealed record per person it is about, under that person's key.

An event that names several students (final marks of a class, homework for some) is
split, each student's record holding only that student's share, so that erasing one
child leaves the others' archive readable and theirs unreadable everywhere.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.keys import KeyStore, seal, unseal
from archive.models import ArchivedRecord, new_uuid
from schoolkit import tombstones
from schoolkit.events import Event

Share = tuple[str, dict[str, Any]]


def school_key_id(school_id: str) -> str:
    return f"school:{school_id}"


def shares_of(envelope: dict[str, Any]) -> list[Share]:
    """(key id, the part of the event that is that person's) for each person it is about."""
    data = envelope["data"]
    if envelope.get("subject"):
        return [(envelope["subject"], envelope)]
    if "finals" in data:
        return [(row["student_id"], _with(envelope, finals=[row])) for row in data["finals"]]
    if data.get("student_ids"):
        return [(s, _with(envelope, student_ids=[s])) for s in data["student_ids"]]
    if data.get("student_id"):
        return [(data["student_id"], envelope)]
    return [(school_key_id(envelope["school_id"]), envelope)]


def _with(envelope: dict[str, Any], **data: Any) -> dict[str, Any]:
    share = copy.deepcopy(envelope)
    share["data"].update(data)
    return share


def context_of(record_id: str, ref: str) -> bytes:
    """Bound into each seal, so a record cannot be passed off as another's."""
    return f"{record_id}|{ref}".encode()


def archive_event(session: Session, event: Event, keys: KeyStore) -> int:
    """Seal and store the event's shares; returns how many records it became."""
    envelope = event.to_dict()
    shares = shares_of(envelope)
    erased = tombstones.erased_among(session, [key_id for key_id, _ in shares], event.school_id)
    stored = 0
    for key_id, share in shares:
        if key_id in erased:
            continue
        # Only the sealed share says what happened, when and to whom: the row names the
        # person by the key's reference and shows neither the event's type nor its time.
        ref = keys.ref(key_id)
        record = ArchivedRecord(
            event_id=event.id, school_id=event.school_id, source=event.source, key_id=ref
        )
        record.id = new_uuid()
        key = keys.key_for(session, key_id, event.school_id)
        plaintext = json.dumps(share, ensure_ascii=False).encode()
        record.sealed = seal(key, plaintext, context_of(record.id, ref))
        session.add(record)
        stored += 1
    return stored


def read_records(session: Session, keys: KeyStore, key_id: str) -> list[dict[str, Any]]:
    """Everything archived about one person, opened (an administrator's or a restore's view)."""
    key = keys.existing_key(session, key_id)
    if key is None:
        return []
    ref = keys.ref(key_id)
    records = session.scalars(select(ArchivedRecord).where(ArchivedRecord.key_id == ref))
    opened = [json.loads(unseal(key, r.sealed, context_of(r.id, ref))) for r in records]
    return sorted(opened, key=lambda envelope: str(envelope.get("time", "")))
