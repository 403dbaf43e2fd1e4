"""The event contracts of contracts/, loaded once and used on both sides of the bus.

Producers validate before an event enters the outbox; consumers validate on receipt.
The fast path uses compiled validators (fastjsonschema); the AsyncAPI document says
which service sends and which services receive each event type.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

ENVELOPE_REF = "../envelope.v1.json"
UUID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
SCHEMA_FILE = re.compile(r"^(?P<type>[a-z_]+(\.[a-z_]+)+)\.v(?P<version>\d+)\.json$")


class ContractViolation(ValueError):
    """An event that does not match its contract: the message says where and why."""


@dataclass(frozen=True)
class Route:
    sender: str
    receivers: frozenset[str]


def _inline_envelope(schema: Any, envelope: dict[str, Any]) -> Any:
    """Replace the envelope `$ref` by the envelope itself, so one compiled function checks all."""
    if isinstance(schema, dict):
        if schema.get("$ref") == ENVELOPE_REF:
            return envelope
        return {key: _inline_envelope(value, envelope) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inline_envelope(item, envelope) for item in schema]
    return schema


def _compile(schema: dict[str, Any]) -> Callable[[Any], Any]:
    return fastjsonschema.compile(schema, formats={"uuid": UUID_PATTERN.pattern})


def _routes_from_asyncapi(document: dict[str, Any]) -> dict[str, Route]:
    senders: dict[str, str] = {}
    receivers: dict[str, set[str]] = {}
    for operation in document.get("operations", {}).values():
        event_type = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        service = operation["x-service"]
        if operation["action"] == "send":
            senders[event_type] = service
        else:
            receivers.setdefault(event_type, set()).add(service)
    return {
        event_type: Route(sender, frozenset(receivers.get(event_type, set())))
        for event_type, sender in senders.items()
    }


class Contracts:
    """All event schemas of one contracts/ directory, compiled, with their routes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        envelope = json.loads((directory / "envelope.v1.json").read_text())
        self._envelope_schema = {
            key: value for key, value in envelope.items() if key not in ("$id", "$schema")
        }
        self._validate_envelope = _compile(envelope)
        self._validators: dict[str, Callable[[Any], Any]] = {}
        for path in sorted((directory / "events").glob("*.json")):
            match = SCHEMA_FILE.match(path.name)
            if match:
                schema = json.loads(path.read_text())
                key = f"{match['type']}.v{match['version']}"
                self._validators[key] = _compile(_inline_envelope(schema, self._envelope_schema))
        document = yaml.safe_load((directory / "asyncapi.yaml").read_text())
        self.routes = _routes_from_asyncapi(document)

    @property
    def schema_keys(self) -> frozenset[str]:
        return frozenset(self._validators)

    def validate(self, envelope: Any) -> None:
        """Raise ContractViolation unless the envelope and its data match their schema."""
        if not isinstance(envelope, dict):
            raise ContractViolation("an event must be a JSON object")
        try:
            self._validate_envelope(envelope)
        except fastjsonschema.JsonSchemaException as error:
            raise ContractViolation(f"envelope: {error.message}") from error
        key = f"{envelope['type']}.v{envelope['version']}"
        validator = self._validators.get(key)
        if validator is None:
            raise ContractViolation(f"no contract for {key}")
        try:
            validator(envelope)
        except fastjsonschema.JsonSchemaException as error:
            raise ContractViolation(f"{key}: {error.message}") from error

    def route(self, event_type: str) -> Route:
        try:
            return self.routes[event_type]
        except KeyError:
            raise ContractViolation(f"{event_type} is not in the AsyncAPI document") from None

    def check_receiver(self, service: str, event_types: Iterable[str]) -> None:
        """Refuse to start a consumer for types its contract does not say it receives."""
        strangers = sorted(t for t in event_types if service not in self.route(t).receivers)
        if strangers:
            raise ContractViolation(
                f"{service} handles {', '.join(strangers)} but the AsyncAPI document "
                f"does not list {service} as a receiver"
            )

    def check_sender(self, service: str, event_types: Iterable[str]) -> None:
        strangers = sorted(t for t in event_types if self.route(t).sender != service)
        if strangers:
            raise ContractViolation(f"{service} is not the sender of {', '.join(strangers)}")

    def example(self, event_type: str, version: int = 1) -> dict[str, Any]:
        """The canonical example of a type: a fresh copy, safe to change in a test."""
        path = self.directory / "examples" / f"{event_type}.v{version}.json"
        return copy.deepcopy(json.loads(path.read_text()))


@lru_cache(maxsize=4)
def load_contracts(directory: Path) -> Contracts:
    return Contracts(directory)
