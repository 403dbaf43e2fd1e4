"""The shipped consent documents (data/templates.toml), seeded into `templates`."""

from __future__ import annotations

import tomllib
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from consent.models import Template

DATA = Path(__file__).parent / "data"


def shipped_templates() -> list[dict[str, Any]]:
    with (DATA / "templates.toml").open("rb") as source:
        entries = tomllib.load(source)["template"]
    return [_as_row(entry) for entry in entries]


def _as_row(entry: dict[str, Any]) -> dict[str, Any]:
    row = {key: value for key, value in entry.items() if key != "text_file"}
    row["text"] = (DATA / entry["text_file"]).read_text(encoding="utf-8")
    row["effective_from"] = date.fromisoformat(entry["effective_from"])
    # The same document gets the same id on every installation.
    row["id"] = str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"consent-template:{entry['kind']}:{entry['version']}")
    )
    return row


def seed_templates(connection: Connection) -> None:
    """Insert the shipped versions that are not there yet."""
    table = Template.__table__
    present = {tuple(row) for row in connection.execute(select(table.c.kind, table.c.version))}
    missing = [row for row in shipped_templates() if (row["kind"], row["version"]) not in present]
    if missing:
        connection.execute(table.insert(), missing)
