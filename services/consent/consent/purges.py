"""The participants' physical purges (schoolkit.housekeeping), for the act of destruction.

A participant confirms its erasure at once, and purges the erased values from its
database files later (at once on SQLite, at the school's quiet hour on PostgreSQL). Each
purge is written into the erasure's event log, and the act says, per system, exactly
what was done to its store, or that it is still to be done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from consent.coordinator import log_entry
from consent.models import Erasure, ErasureLogEntry
from schoolkit.events import Event

PURGED = "purged"
NOT_YET = (
    "записи удалены; физическая очистка файлов базы данных (перезапись таблиц и журнала "
    "WAL) ещё не подтверждена — выполняется в тихий час школы в пределах срока"
)


def record_purge(session: Session, event: Event) -> str | None:
    data = event.data
    if session.get(Erasure, data["erasure_id"]) is None:
        return "ignored"  # an erasure of another consent database, or long forgotten
    details = {key: data[key] for key in ("store", "method", "tables", "purged_at")}
    log_entry(
        session,
        data["erasure_id"],
        PURGED,
        participant=data["participant"],
        event_id=event.id,
        details=details,
    )
    return None


def method_per_participant(entries: Sequence[ErasureLogEntry]) -> dict[str, dict[str, Any]]:
    """The latest purge of each participant, from the erasure's log (in log order)."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry.what == PURGED and entry.participant:
            latest[entry.participant] = entry.details
    return latest
