"""JSON log lines on stdout, each carrying the ids of the work in hand (DESIGN §7).

Personal data never goes into logs: callers log ids. `RedactSecrets` is the safety net
for the day someone passes `extra={"email": ...}` anyway.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from schoolkit.context import correlation_id_var, event_id_var, request_id_var

REDACTED = "[redacted]"

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "passwd",
        "new_password",
        "old_password",
        "temporary_password",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "authorization",
        "cookie",
        "api_key",
        "email",
        "phone",
        "name",
        "first_name",
        "last_name",
        "middle_name",
        "patronymic",
        "full_name",
        "display_name",
        "login",
        "username",
        "birth_date",
        "date_of_birth",
        "address",
        "snils",
        "passport",
        "inn",
    }
)
SENSITIVE_SUFFIXES = ("_password", "_secret", "_token", "_email", "_phone")

_STANDARD_ATTRIBUTES = frozenset(RESERVED_ATTRS) | {"message", "asctime"}

# Libraries whose INFO lines would quote URLs (query strings) or connection details.
_QUIET_LOGGERS = ("werkzeug", "pika", "urllib3")
# pika reports one unreachable broker as half a dozen ERROR lines with tracebacks; the
# relay and the consumer say it once themselves, in words an operator can act on.
_SILENT_LOGGERS = ("pika.adapters", "pika.connection", "pika.channel")


def is_sensitive(key: str) -> bool:
    normalised = key.lower().replace("-", "_")
    return normalised in SENSITIVE_KEYS or normalised.endswith(SENSITIVE_SUFFIXES)


def redact(value: Any) -> Any:
    """A copy of `value` with every sensitive key's value replaced, at any depth."""
    if isinstance(value, dict):
        return {
            key: REDACTED if is_sensitive(str(key)) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


class RedactSecrets(logging.Filter):
    """Replaces secrets and personal data passed in `extra` (or a logged dict) by a marker."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(record.__dict__):
            if key in _STANDARD_ATTRIBUTES:
                continue
            value = record.__dict__[key]
            record.__dict__[key] = REDACTED if is_sensitive(key) else redact(value)
        if isinstance(record.msg, dict):
            record.msg = redact(record.msg)
        return True


def error_text(error: BaseException) -> str:
    """What an error says, fit for a log line or a parked message's reason.

    A database's own message may quote the value it refused ('invalid input syntax for
    type integer: "<a name>"', 'Key (email)=(<an e-mail>) already exists'), and
    SQLAlchemy's `hide_parameters` hides only its parameter list. So a database error says
    its SQLSTATE, the constraint or table it names, and the statement (placeholders only),
    never the database's text.
    """
    database_error = _database_error_of(error)
    if database_error is None:
        return f"{type(error).__name__}: {error}"
    diag = getattr(database_error, "diag", None)
    named = getattr(diag, "constraint_name", None) or getattr(diag, "table_name", None)
    statement = " ".join(str(getattr(error, "statement", "") or "").split())[:300]
    parts = [
        f"{type(error).__name__}: database error",
        f"SQLSTATE {getattr(database_error, 'sqlstate', None) or 'unknown'}",
    ]
    if named:
        parts.append(f"on {named}")
    if statement:
        parts.append(f"[SQL: {statement}]")
    return " ".join(parts) + " (the database's message is withheld: it may quote values)"


def _database_error_of(error: BaseException) -> BaseException | None:
    """The driver's error behind `error` (itself, or the one SQLAlchemy wraps), if any."""
    for candidate in (error, getattr(error, "orig", None)):
        if candidate is not None and type(candidate).__module__.startswith("psycopg"):
            return candidate
    return None


def _traceback_lines(error: BaseException, seen: set[int] | None = None) -> list[str]:
    """The usual traceback of `error` and its causes, each error's text by error_text."""
    seen = seen if seen is not None else set()
    seen.add(id(error))  # a chain can loop back on itself, as the traceback module knows
    lines: list[str] = []
    cause, context = error.__cause__, error.__context__
    if cause is not None and id(cause) not in seen:
        lines += _traceback_lines(cause, seen)
        lines.append("\nThe above exception was the direct cause of the following exception:\n\n")
    elif context is not None and not error.__suppress_context__ and id(context) not in seen:
        lines += _traceback_lines(context, seen)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    if error.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_tb(error.__traceback__)
    lines.append(error_text(error) + "\n")
    return lines


class ServiceJsonFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, service, the context ids, extra."""

    def __init__(self, service: str) -> None:
        super().__init__("%(message)s")
        self.service = service

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        """Tracebacks as usual, but a database error never quotes the database's text."""
        error = ei[1] if isinstance(ei, tuple) else None
        if error is None:
            return super().formatException(ei)
        return "".join(_traceback_lines(error)).rstrip("\n")

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        super().add_fields(log_data, record, message_dict)
        log_data.setdefault("service", self.service)
        log_data.setdefault("request_id", request_id_var.get())
        log_data.setdefault("correlation_id", correlation_id_var.get())
        log_data.setdefault("event_id", event_id_var.get())


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is at the time, so a replaced stdout still gets logs."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(service: str, level: str) -> None:
    """Send the root logger's records to stdout as JSON; calling it again replaces ours only."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(handler)
    handler = _StdoutHandler()
    handler.setFormatter(ServiceJsonFormatter(service))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in _SILENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
