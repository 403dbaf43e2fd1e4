"""The event envelope (CloudEvents attribute names, DESIGN §3)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schoolkit.context import current_correlation_id, new_id


def as_utc(moment: datetime) -> datetime:
    """A moment in UTC; a naive one (SQLite keeps no offset) is taken to be UTC already."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso_utc(moment: datetime) -> str:
    """The contracts' date-time form: UTC, milliseconds, `Z`."""
    return as_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now_iso() -> str:
    return iso_utc(datetime.now(UTC))


@dataclass(frozen=True)
class Event:
    """One event: what happened (`type`, `data`), where (`school_id`), about whom (`subject`).

    `source` is the service that owns the type: the type's first segment, by the
    naming rule of contracts/ (`journal.mark.recorded` comes from journal).
    """

    type: str
    data: dict[str, Any]
    school_id: str
    subject: str | None = None
    version: int = 1
    id: str = field(default_factory=new_id)
    time: str = field(default_factory=_now_iso)
    correlation_id: str = field(default_factory=current_correlation_id)

    @property
    def source(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def schema_key(self) -> str:
        return f"{self.type}.v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        envelope: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "source": self.source,
            "time": self.time,
            "school_id": self.school_id,
            "correlation_id": self.correlation_id,
            "data": self.data,
        }
        if self.subject is not None:
            envelope["subject"] = self.subject
        return envelope

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, envelope: dict[str, Any]) -> Event:
        return cls(
            type=envelope["type"],
            data=envelope["data"],
            school_id=envelope["school_id"],
            subject=envelope.get("subject"),
            version=envelope["version"],
            id=envelope["id"],
            time=envelope["time"],
            correlation_id=envelope["correlation_id"],
        )
