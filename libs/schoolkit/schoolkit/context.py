"""Ids that follow one piece of work across HTTP requests, events and log lines."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

# Request and correlation ids we accept from outside, echo back and write into logs:
# anything else is replaced by a fresh id, never trusted.
SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
event_id_var: ContextVar[str | None] = ContextVar("event_id", default=None)


def new_id() -> str:
    return str(uuid.uuid4())


def current_correlation_id() -> str:
    """The correlation id of the work in hand, or a fresh one when nothing started it."""
    return correlation_id_var.get() or new_id()
