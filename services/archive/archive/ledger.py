"""The erasure ledger (DESIGN §4.6): every erasure consent ordered, in order, for replay.

Consent is the source of erasures; the archive keeps their ledger. Each backup set
carries a sealed copy of it, so it survives the archive's own loss. A restored database
has the ledger replayed before it takes traffic: each erasure whose subjects the restored
data has not buried is run again through that service's own erasure handler (erasing
twice is harmless and confirms again), so nobody erased comes back.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.models import ErasureLedgerEntry
from schoolkit import tombstones
from schoolkit.consumer import Handler
from schoolkit.db import Database
from schoolkit.erasure import ERASABLE_KINDS, REQUESTED
from schoolkit.events import Event


@dataclass(frozen=True)
class Entry:
    position: int
    erasure_id: str
    school_id: str
    request: dict[str, Any]

    @property
    def subject_ids(self) -> list[str]:
        subjects = self.request.get("subjects", [])
        return [s["subject_id"] for s in subjects if s.get("kind") in ERASABLE_KINDS]

    @property
    def retains_anything(self) -> bool:
        return bool(self.request.get("retain"))


def record(session: Session, event: Event) -> None:
    """Append the request to the ledger once (a request asked again is the same erasure)."""
    erasure_id = event.data["erasure_id"]
    known = select(ErasureLedgerEntry.position).where(
        ErasureLedgerEntry.erasure_id == erasure_id,
        ErasureLedgerEntry.school_id == event.school_id,
    )
    if session.execute(known.limit(1)).first() is None:
        request = {key: value for key, value in event.data.items() if key != "attempt"}
        session.add(
            ErasureLedgerEntry(erasure_id=erasure_id, school_id=event.school_id, request=request)
        )
        session.flush()


def position(session: Session) -> int:
    return int(session.scalar(select(func.max(ErasureLedgerEntry.position))) or 0)


def entries(session: Session) -> list[Entry]:
    rows = session.scalars(select(ErasureLedgerEntry).order_by(ErasureLedgerEntry.position))
    return [Entry(r.position, r.erasure_id, r.school_id, dict(r.request)) for r in rows]


def to_lines(found: Iterable[Entry]) -> bytes:
    return b"".join(
        json.dumps(
            {
                "position": e.position,
                "erasure_id": e.erasure_id,
                "school_id": e.school_id,
                "request": e.request,
            },
            sort_keys=True,
        ).encode()
        + b"\n"
        for e in found
    )


def from_lines(data: bytes) -> list[Entry]:
    return [Entry(**json.loads(line)) for line in data.splitlines() if line.strip()]


def merged(*sources: Iterable[Entry]) -> list[Entry]:
    """One ledger from several copies (the live one, the newest sealed copy)."""
    by_erasure = {(e.school_id, e.erasure_id): e for source in sources for e in source}
    return sorted(by_erasure.values(), key=lambda e: e.position)


def erasure_handler_of(service: str, master_key: bytes) -> Handler:
    """The service's own handler of `consent.erasure.requested` (its one table). The
    archive's own finds keys by references under the master key the restore was given."""
    if service == "archive":
        from archive.handlers import build_handlers  # noqa: PLC0415 - handlers import this module
        from archive.keys import KeyStore  # noqa: PLC0415

        return build_handlers(KeyStore(master_key))[REQUESTED]
    handlers = importlib.import_module(f"{service}.handlers").HANDLERS
    return handlers[REQUESTED]  # type: ignore[no-any-return]


def replay(service: str, database: Database, ledger: Iterable[Entry], master_key: bytes) -> int:
    """Run again every erasure the restored data has not buried; returns how many."""
    handle = erasure_handler_of(service, master_key)
    replayed = 0
    for entry in ledger:
        with database.transaction() as session:
            if _buried(session, entry):
                continue
            event = Event(REQUESTED, dict(entry.request), entry.school_id)
            handle(session, event)
            replayed += 1
    return replayed


def _buried(session: Session, entry: Entry) -> bool:
    wanted = set(entry.subject_ids)
    return bool(wanted) and tombstones.erased_among(session, wanted, entry.school_id) == wanted


def buried_subjects(database: Database, ledger: Iterable[Entry]) -> set[str]:
    """The subjects of erasures that kept nothing, buried in `database`: what a residue
    check looks for (a retained category legitimately keeps its subject's id)."""
    found: set[str] = set()
    with database.transaction() as session:
        for entry in ledger:
            if not entry.retains_anything:
                found |= tombstones.erased_among(session, entry.subject_ids, entry.school_id)
    return found
