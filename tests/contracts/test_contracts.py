"""The event contracts of contracts/ hold together: strict schemas, one good example each, one AsyncAPI.

Schemas are JSON Schema draft-07 (AsyncAPI 3 payloads), each event schema extends the
envelope by a relative `$ref` that a `referencing.Registry` of all schemas resolves by `$id`.
Formats (uuid, date, date-time) are checked, so a malformed id or instant is a violation.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT7

from schoolkit.contracts import Contracts, ContractViolation
from schoolkit.events import Event

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
EVENTS_DIR = CONTRACTS_DIR / "events"
EXAMPLES_DIR = CONTRACTS_DIR / "examples"
ENVELOPE_FILE = CONTRACTS_DIR / "envelope.v1.json"
BASE_URI = "https://contracts.school.local/"
DRAFT_07 = "http://json-schema.org/draft-07/schema#"
SERVICES = ("identity", "journal", "diary", "consent", "notify", "archive")
# The web app receives (never sends) the deny-list events, to end its users' sessions.
CLIENTS = ("web",)
SCHEMA_FILE_NAME = re.compile(r"^(?P<type>[a-z_]+(\.[a-z_]+)+)\.v(?P<version>[1-9]\d*)\.json$")

# Entities that change over time: their events carry entity_version (DESIGN: ordering).
VERSIONED_TYPES = {
    "identity.user.registered",
    "identity.person.changed",
    "identity.person.snapshot",
    "identity.contact.changed",
    "identity.guardian.linked",
    "identity.guardian.unlinked",
    "identity.account.blocked",
    "identity.account.unblocked",
    "journal.mark.recorded",
    "journal.mark.corrected",
    "journal.mark.removed",
    "journal.attendance.recorded",
    "journal.lesson.changed",
    "journal.homework.assigned",
    "journal.period.finalized",
    "journal.student.enrolled",
    "journal.student.transferred",
    "journal.student.left",
    "journal.calendar.changed",
    "journal.subject.changed",
    "journal.class.changed",
    "journal.message.sent",
    "consent.given",
    "consent.revoked",
    "consent.agreement.concluded",
    "consent.agreement.terminated",
}
DENY_LIST_TYPES = (
    "identity.account.blocked",
    "identity.account.unblocked",
    "identity.session.revoked",
)
NAME_FIELDS = {"last_name", "first_name", "middle_name", "birth_date"}
# Names travel to everyone who keeps them in person.changed, and to the diary alone, for a
# late agreement's people, in person.snapshot (contracts/README.md, data minimisation).
NAMED_TYPES = {"identity.person.changed", "identity.person.snapshot"}
CONTACT_FIELDS = {"email", "phone"}


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


EVENT_SCHEMA_FILES = sorted(EVENTS_DIR.glob("*.json"))
SCHEMA_FILES = [ENVELOPE_FILE, *EVENT_SCHEMA_FILES]
SCHEMAS = {path: load_json(path) for path in SCHEMA_FILES}
REGISTRY: Registry = Registry().with_resources(
    (schema["$id"], DRAFT7.create_resource(schema)) for schema in SCHEMAS.values()
)
ASYNCAPI = yaml.safe_load((CONTRACTS_DIR / "asyncapi.yaml").read_text(encoding="utf-8"))

FORMATS = FormatChecker()
RFC_3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)


@FORMATS.checks("date-time", raises=ValueError)
def is_rfc_3339_instant(value: object) -> bool:
    """An instant with a date, a time and an offset (jsonschema checks none without extras)."""
    if not isinstance(value, str):
        return True
    if not RFC_3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # 2025-02-30 raises
    return True


def event_type_of(path: Path) -> str:
    match = SCHEMA_FILE_NAME.match(path.name)
    assert match, f"{path.name} is not named <type>.v<version>.json"
    return match["type"]


def validator(schema_path: Path) -> Draft7Validator:
    return Draft7Validator(SCHEMAS[schema_path], registry=REGISTRY, format_checker=FORMATS)


def violations(schema_path: Path, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(schema_path).iter_errors(instance)
    ]


def example_of(schema_path: Path) -> dict[str, Any]:
    return load_json(EXAMPLES_DIR / schema_path.name)


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (JSON path, value) of a document, the document itself first."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def property_names(schema: Any) -> set[str]:
    return {
        name
        for _, node in walk(schema)
        if isinstance(node, dict) and isinstance(node.get("properties"), dict)
        for name in node["properties"]
    }


def data_schema(schema_path: Path) -> dict[str, Any]:
    return SCHEMAS[schema_path]["properties"]["data"]


def by_name(paths: list[Path]) -> list[Any]:
    return [pytest.param(path, id=path.name) for path in paths]


@cache
def kit() -> Contracts:
    """The kit's own loader (fastjsonschema), which producers and consumers use at run time."""
    return Contracts(CONTRACTS_DIR)


# ------------------------------------------------------------------ the schemas


def test_there_is_an_envelope_and_event_schemas_to_check() -> None:
    assert ENVELOPE_FILE.exists()
    assert len(EVENT_SCHEMA_FILES) >= 30


@pytest.mark.parametrize("path", by_name(SCHEMA_FILES))
def test_every_schema_is_a_valid_draft_07_schema(path: Path) -> None:
    schema = SCHEMAS[path]
    assert schema.get("$schema") == DRAFT_07
    Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("path", by_name(SCHEMA_FILES))
def test_every_schema_has_a_title_a_description_and_an_id_named_after_its_file(
    path: Path,
) -> None:
    schema = SCHEMAS[path]
    assert isinstance(schema.get("title"), str) and schema["title"].strip()
    assert isinstance(schema.get("description"), str) and len(schema["description"]) > 40
    expected = BASE_URI + path.relative_to(CONTRACTS_DIR).as_posix()
    assert schema.get("$id") == expected


@pytest.mark.parametrize("path", by_name(SCHEMA_FILES))
def test_no_ref_has_sibling_keywords_that_draft_07_would_ignore(path: Path) -> None:
    for where, node in walk(SCHEMAS[path]):
        if isinstance(node, dict) and "$ref" in node:
            assert set(node) == {"$ref"}, f"{where}: $ref beside {sorted(set(node) - {'$ref'})}"


def test_the_envelope_allows_only_its_attributes_and_requires_all_but_subject() -> None:
    envelope = SCHEMAS[ENVELOPE_FILE]
    assert envelope["type"] == "object"
    assert envelope["additionalProperties"] is False
    attributes = {"id", "type", "version", "source", "time", "school_id", "correlation_id", "data"}
    assert set(envelope["properties"]) == attributes | {"subject"}
    assert set(envelope["required"]) == attributes
    assert envelope["properties"]["source"]["enum"] == list(SERVICES)


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_every_event_schema_extends_the_envelope_and_pins_type_version_and_source(
    path: Path,
) -> None:
    schema = SCHEMAS[path]
    event_type = event_type_of(path)
    version = int(SCHEMA_FILE_NAME.match(path.name)["version"])
    assert schema["allOf"] == [{"$ref": "../envelope.v1.json"}]
    pinned = schema["properties"]
    assert pinned["type"] == {"const": event_type}
    assert pinned["version"] == {"const": version}
    assert pinned["source"] == {"const": event_type.split(".", 1)[0]}
    assert pinned["data"]["type"] == "object"
    assert pinned["data"]["required"], "data must require something"


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_every_object_in_event_data_forbids_unknown_properties(path: Path) -> None:
    for where, node in walk(data_schema(path), "data"):
        if isinstance(node, dict) and "properties" in node and where.rsplit("/", 1)[-1] != "if":
            assert node.get("additionalProperties") is False, f"{where} is open"
            missing = set(node.get("required", [])) - set(node["properties"])
            assert not missing, f"{where} requires undeclared {missing}"


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_events_about_a_changing_entity_carry_its_entity_version(path: Path) -> None:
    data = data_schema(path)
    carries = "entity_version" in data.get("required", [])
    if event_type_of(path) in VERSIONED_TYPES:
        assert carries, "consumers need entity_version to ignore a stale update"
        assert data["properties"]["entity_version"]["type"] == "integer"
        assert data["properties"]["entity_version"]["minimum"] == 1
    else:
        assert "entity_version" not in data["properties"], "add the type to VERSIONED_TYPES"


def expected_format(name: str) -> str | None:
    """The format a data field's name promises: ids are uuids, *_at instants, *_on days."""
    if name in OPAQUE_IDS:
        return None
    if name == "id" or name.endswith("_id"):
        return "uuid"
    if name.endswith("_at") or name == "deadline":
        return "date-time"
    if name.endswith(("_on", "_date")) or name in {"date", "until"}:
        return "date"
    return None


OPAQUE_IDS = {"session_id"}  # the `sid` claim of identity's tokens: identity's own format


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_every_id_instant_and_day_in_data_has_the_format_its_name_promises(path: Path) -> None:
    wrong = []
    for where, node in walk(data_schema(path), "data"):
        if not (isinstance(node, dict) and isinstance(node.get("properties"), dict)):
            continue
        for name, spec in node["properties"].items():
            many = name.endswith("_ids")  # a list of ids: its items are uuids
            field = name[:-1] if many else name
            field_spec = spec.get("items", {}) if many else spec
            expected = expected_format(field)
            if expected and field_spec.get("format") != expected:
                wrong.append(f"{where}/{name}: {field_spec.get('format')} instead of {expected}")
    assert wrong == []


def test_names_travel_only_in_person_events_and_contacts_only_in_contact_changed() -> None:
    for path in EVENT_SCHEMA_FILES:
        names = property_names(data_schema(path))
        if event_type_of(path) not in NAMED_TYPES:
            assert not names & NAME_FIELDS, f"{path.name} carries {names & NAME_FIELDS}"
        if event_type_of(path) != "identity.contact.changed":
            assert not names & CONTACT_FIELDS, f"{path.name} carries {names & CONTACT_FIELDS}"


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_an_event_about_a_person_requires_a_subject_named_in_its_data(path: Path) -> None:
    example = example_of(path)
    if "subject" not in SCHEMAS[path].get("required", []):
        assert "subject" not in example, "the example has a subject its schema does not require"
        return
    people = {
        value
        for key, value in example["data"].items()
        if key in {"person_id", "student_id", "recipient_id"}
    }
    assert example["subject"] in people, "the subject must be a person the data names"


# ------------------------------------------------------------------ the examples


def test_every_event_schema_has_exactly_one_example_and_every_example_a_schema() -> None:
    schemas = {path.name for path in EVENT_SCHEMA_FILES}
    examples = {path.name for path in EXAMPLES_DIR.glob("*.json")}
    assert schemas == examples
    assert not [p.name for p in EXAMPLES_DIR.iterdir() if p.suffix != ".json"]


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_every_example_validates_against_its_schema(path: Path) -> None:
    assert violations(path, example_of(path)) == []


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_every_example_also_passes_the_kits_compiled_validator(path: Path) -> None:
    kit().validate(example_of(path))


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_every_example_is_exactly_what_the_kits_event_object_writes(path: Path) -> None:
    example = example_of(path)
    assert Event.from_dict(example).to_dict() == example


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_an_event_the_kit_builds_now_from_the_example_data_validates(path: Path) -> None:
    example = example_of(path)
    event = Event(
        type=example["type"],
        data=example["data"],
        school_id="school-1",
        subject=example.get("subject"),
    )
    assert violations(path, event.to_dict()) == []


# ------------------------------------------------------------------ strictness

BREAKAGES = {
    "an unknown data property": lambda e: e["data"].update(unexpected="x"),
    "an unknown envelope attribute": lambda e: e.update(name="Иванова Мария"),
    "a wrong source": lambda e: e.update(source=next(s for s in SERVICES if s != e["source"])),
    "another version": lambda e: e.update(version=2),
    "an id that is not a uuid": lambda e: e.update(id="not-a-uuid"),
    "a time that is not an instant": lambda e: e.update(time="14.11.2025 16:45"),
    "an empty school": lambda e: e.update(school_id=""),
    "data that is not an object": lambda e: e.update(data=[]),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_a_broken_example_is_rejected(path: Path, breakage: str) -> None:
    example = example_of(path)
    assert violations(path, example) == []
    BREAKAGES[breakage](example)
    assert violations(path, example), f"{breakage} was accepted"
    with pytest.raises(ContractViolation):
        kit().validate(example)


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_an_example_missing_any_required_field_is_rejected(path: Path) -> None:
    accepted = []
    for field in data_schema(path)["required"]:
        example = example_of(path)
        del example["data"][field]
        if not violations(path, example):
            accepted.append(f"data.{field}")
    for attribute in SCHEMAS[ENVELOPE_FILE]["required"] + SCHEMAS[path].get("required", []):
        example = example_of(path)
        del example[attribute]
        if not violations(path, example):
            accepted.append(attribute)
    assert accepted == [], f"accepted without {accepted}"


@pytest.mark.parametrize("path", by_name(EVENT_SCHEMA_FILES))
def test_a_format_that_is_wrong_inside_data_is_rejected(path: Path) -> None:
    """Every uuid, date and date-time field of data refuses a malformed value."""
    formats = {
        name: spec["format"]
        for name, spec in data_schema(path)["properties"].items()
        if isinstance(spec, dict) and spec.get("format") in {"uuid", "date", "date-time"}
    }
    assert formats, "every event names at least one id or time"
    accepted = []
    for name, kind in formats.items():
        example = example_of(path)
        example["data"][name] = {"uuid": "12345", "date": "2025-02-30", "date-time": "2025-11-14"}[
            kind
        ]
        if not violations(path, example):
            accepted.append(name)
    assert accepted == []


def test_the_conditional_rules_hold() -> None:
    """Rules one field cannot say alone: scopes, and a birth date only for students."""
    cases = [
        ("identity.session.revoked", {"scope": "one"}, "a single session without its id"),
        ("identity.session.revoked", {"session_id": "s-1"}, "a session id with scope all"),
        (
            "identity.person.changed",
            {"kind": "staff", "roles": ["subject_teacher"]},
            "a birth date for staff",
        ),
        ("diary.acknowledged", {"scope": "item"}, "an item scope without its item"),
        ("identity.person.snapshot", {"kind": "guardian"}, "a birth date for a guardian"),
    ]
    for event_type, change, what in cases:
        path = EVENTS_DIR / f"{event_type}.v1.json"
        example = example_of(path)
        example["data"].update(change)
        assert violations(path, example), f"{what} was accepted"


def test_a_mark_value_is_an_integer_or_a_scale_code_but_nothing_else() -> None:
    path = EVENTS_DIR / "journal.mark.recorded.v1.json"
    for value, valid in [(5, True), ("pass", True), (4.5, False), ("", False), (None, False)]:
        example = example_of(path)
        example["data"]["value"] = value
        assert (violations(path, example) == []) is valid, value


# ------------------------------------------------------------------ the AsyncAPI document


def resolve_pointer(document: Any, pointer: str) -> Any:
    node = document
    for raw in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def resolve(ref: str) -> Any:
    """A `$ref` of asyncapi.yaml: `#/...` inside it, or a file relative to contracts/."""
    location, _, fragment = ref.partition("#")
    if not location:
        return resolve_pointer(ASYNCAPI, fragment)
    target = (CONTRACTS_DIR / location).resolve()
    assert target.is_relative_to(CONTRACTS_DIR), f"{ref} points outside contracts/"
    return resolve_pointer(load_json(target), fragment)


def operations() -> dict[str, dict[str, Any]]:
    return ASYNCAPI["operations"]


def operations_on(event_type: str, action: str) -> list[dict[str, Any]]:
    return [
        op
        for op in operations().values()
        if op["channel"] == {"$ref": f"#/channels/{event_type}"} and op["action"] == action
    ]


def test_the_asyncapi_document_is_version_3_0_0_for_the_local_rabbitmq() -> None:
    assert ASYNCAPI["asyncapi"] == "3.0.0"
    assert {"title", "version", "description"} <= set(ASYNCAPI["info"])
    assert ASYNCAPI["defaultContentType"] == "application/json"
    servers = list(ASYNCAPI["servers"].values())
    assert any(s["protocol"] == "amqp" and s["host"] == "127.0.0.1:5672" for s in servers)


def test_every_ref_in_the_asyncapi_document_resolves() -> None:
    refs = [
        (where, node["$ref"])
        for where, node in walk(ASYNCAPI)
        if isinstance(node, dict) and "$ref" in node
    ]
    assert refs
    unresolved = []
    for where, ref in refs:
        try:
            resolve(ref)
        except (KeyError, IndexError, ValueError, OSError, AssertionError) as error:
            unresolved.append(f"{where}: {ref} ({error!r})")
    assert unresolved == []


def test_every_channel_is_one_event_type_with_a_schema() -> None:
    assert set(ASYNCAPI["channels"]) == {event_type_of(path) for path in EVENT_SCHEMA_FILES}


def test_every_event_schema_is_the_payload_of_exactly_one_message() -> None:
    payloads = Counter()
    for key, message in ASYNCAPI["components"]["messages"].items():
        payload = message["payload"]
        assert payload["schemaFormat"] == "application/schema+json;version=draft-07"
        target = (CONTRACTS_DIR / payload["schema"]["$ref"]).resolve()
        assert target.exists(), f"{key} points at a missing {target}"
        assert key == target.name.removesuffix(".json"), f"{key} carries {target.name}"
        assert message["name"] == event_type_of(target)
        assert message["contentType"] == "application/json"
        assert message.get("title") and message.get("summary")
        payloads[target] += 1
    assert payloads == Counter({path.resolve(): 1 for path in EVENT_SCHEMA_FILES})


@pytest.mark.parametrize("event_type", sorted(ASYNCAPI["channels"]))
def test_every_channel_is_addressed_by_its_type_on_the_topic_exchange(event_type: str) -> None:
    channel = ASYNCAPI["channels"][event_type]
    assert channel["address"] == event_type
    assert channel["messages"] == {
        f"{event_type}.v1": {"$ref": f"#/components/messages/{event_type}.v1"}
    }
    amqp = channel["bindings"]["amqp"]
    assert amqp["is"] == "routingKey"
    assert amqp["exchange"]["name"] == "school.events"
    assert amqp["exchange"]["type"] == "topic"
    assert amqp["exchange"]["durable"] is True


@pytest.mark.parametrize("event_type", sorted(ASYNCAPI["channels"]))
def test_every_channel_has_one_sender_its_source_and_at_least_one_receiver(
    event_type: str,
) -> None:
    senders = [op["x-service"] for op in operations_on(event_type, "send")]
    assert senders == [event_type.split(".", 1)[0]]
    receivers = [op["x-service"] for op in operations_on(event_type, "receive")]
    assert receivers, f"nobody receives {event_type}"
    assert len(receivers) == len(set(receivers)), "a service receives it twice"


@pytest.mark.parametrize("key", sorted(ASYNCAPI["operations"]))
def test_every_operation_names_its_service_and_refers_to_its_channel_and_message(
    key: str,
) -> None:
    operation = operations()[key]
    service = operation["x-service"]
    assert service in SERVICES or (service in CLIENTS and operation["action"] == "receive")
    assert operation["action"] in {"send", "receive"}
    channel_ref = operation["channel"]["$ref"]
    event_type = channel_ref.removeprefix("#/channels/")
    assert key == f"{service}.{operation['action']}.{event_type}"
    assert resolve(channel_ref) is ASYNCAPI["channels"][event_type]
    assert operation["messages"] == [{"$ref": f"{channel_ref}/messages/{event_type}.v1"}], (
        "an operation carries its channel's message"
    )
    message = resolve(operation["messages"][0]["$ref"])
    assert message == {"$ref": f"#/components/messages/{event_type}.v1"}


def test_every_service_but_identity_receives_the_deny_list_events() -> None:
    for event_type in DENY_LIST_TYPES:
        receivers = {op["x-service"] for op in operations_on(event_type, "receive")}
        assert receivers == set(SERVICES) - {"identity"} | set(CLIENTS), event_type


def test_every_participant_receives_an_erasure_request_and_confirms_to_consent() -> None:
    requested = {op["x-service"] for op in operations_on("consent.erasure.requested", "receive")}
    assert requested == set(SERVICES)
    for service in SERVICES:
        completed = f"{service}.erasure.completed"
        assert [op["x-service"] for op in operations_on(completed, "send")] == [service]
        assert [op["x-service"] for op in operations_on(completed, "receive")] == ["consent"]
        participant = data_schema(EVENTS_DIR / f"{completed}.v1.json")["properties"]["participant"]
        assert participant["const"] == service


def test_the_kit_reads_the_same_routes_from_the_document() -> None:
    routes = kit().routes
    assert set(routes) == set(ASYNCAPI["channels"])
    for event_type, route in routes.items():
        assert route.sender == event_type.split(".", 1)[0]
        expected = {op["x-service"] for op in operations_on(event_type, "receive")}
        assert route.receivers == expected
