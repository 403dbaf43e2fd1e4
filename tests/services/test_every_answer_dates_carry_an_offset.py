"""Every date-time an API answers carries its UTC offset (issue 14 §12).

Walks every field of every schema each service lists in its OpenAPI document (nested ones
too) and dumps a moment as the database gives it back: SQLite, the local run's default,
keeps no zone, so a plain marshmallow DateTime wrote `2025-09-01T06:15:00`, which a phone
reads as its own local time. Hand-built answers go through the kit's JSON provider, which
is checked the same way.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from marshmallow import Schema, fields

from schoolkit.errors import StrictJsonProvider

WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
# As the database gives it back: no zone (UTC by the services' rule).
STORED = datetime(2025, 9, 1, 6, 15)
SERVICES = ["identity", "journal", "diary", "consent", "notify", "archive"]


def date_time_fields(schema: Schema, path: str) -> Iterator[tuple[str, fields.DateTime]]:
    for name, field in schema.fields.items():
        yield from _walk(field, f"{path}.{name}")


def _walk(field: fields.Field, path: str) -> Iterator[tuple[str, fields.DateTime]]:
    if isinstance(field, fields.DateTime):
        yield path, field
    elif isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        yield from date_time_fields(field.schema, path)
    elif isinstance(field, fields.List) and field.inner is not None:
        yield from _walk(field.inner, f"{path}[]")
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        yield from _walk(field.value_field, f"{path}{{}}")


def naive_answers(service: str) -> list[str]:
    schemas = importlib.import_module(f"{service}.schemas").SCHEMAS
    found = []
    for name, kind in schemas.items():
        for path, field in date_time_fields(kind(), name):
            written = field.serialize("moment", {"moment": STORED})
            if not WITH_OFFSET.match(written):
                found.append(f"{path} -> {written}")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_documented_date_time_is_written_with_its_offset(service: str) -> None:
    assert naive_answers(service) == []


def test_every_service_walk_finds_date_times_to_check() -> None:
    """The walk itself reaches the fields (a walk that found none would prove nothing)."""
    counted = 0
    for service in SERVICES:
        schemas = importlib.import_module(f"{service}.schemas").SCHEMAS
        counted += sum(len(list(date_time_fields(kind(), name))) for name, kind in schemas.items())
    assert counted >= 15


def test_hand_built_answers_write_dates_in_iso_and_instants_with_their_offset() -> None:
    assert StrictJsonProvider.default(STORED) == "2025-09-01T06:15:00+00:00"
    assert StrictJsonProvider.default(STORED.date()) == "2025-09-01"
