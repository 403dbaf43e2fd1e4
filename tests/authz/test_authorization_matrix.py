"""The authorisation matrix (issue 14): every route of every OpenAPI document × every
actor × own, foreign, other-school and nonexistent objects, against rules.RULES.

The routes come from the running apps' /api/<service>/openapi.json, so a new route is
in the matrix the day it appears, and test_every_route_has_a_rule fails, naming it,
until rules.py says who may call it. See tests/authz/README.md.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from schoolkit.testing import TokenIssuer

from .known_defects import KNOWN_DEFECTS
from .rules import RULES, SCHOOL, Rule, Scope
from .world import SERVICES, TODAY, Actor, Obj, World, build_world

NONEXISTENT = "nonexistent"
PARAMETER = re.compile(r"\{(\w+)\}")
WRITE_ANSWERS = frozenset({400, 409, 410, 422})  # let in, but the generic body did not do


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str  # as in the OpenAPI document, without /api/<service>
    operation: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, f"{self.method} {self.path}")


@dataclass(frozen=True)
class Cell:
    route: Route
    rule: Rule
    actor: Actor
    label: str | None  # own, foreign, other_school, nonexistent; None: no path object

    @property
    def id(self) -> str:
        where = f" [{self.label}]" if self.label else ""
        return f"{self.route.service} {self.route.method} {self.route.path} as {self.actor.name}{where}"


# --- the world and the routes, once per test process --------------------------------------


@cache
def world() -> World:
    workdir = Path(tempfile.mkdtemp(prefix="authz-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    issuer = TokenIssuer()
    atexit.register(issuer.close)
    return build_world(workdir, issuer)


@cache
def documents() -> dict[str, dict[str, Any]]:
    found = {}
    for name in SERVICES:
        answer = world().services[name].client.get(f"/api/{name}/openapi.json")
        assert answer.status_code == 200, name
        found[name] = answer.get_json()
    return found


def routes() -> list[Route]:
    found = []
    for service, document in documents().items():
        prefix = f"/api/{service}"
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    found.append(
                        Route(service, method.upper(), path.removeprefix(prefix), operation)
                    )
        for path in ("/healthz", "/readyz", "/metrics"):
            found.append(Route(service, "GET", path, {}))
    return found


def phase(cell: Cell) -> int:
    """Reads first, then writes, then deletions (and what a rule puts later still): so a
    write in reach never changes what a read of another cell sees."""
    if cell.rule.phase is not None:
        return cell.rule.phase
    return {"GET": 0, "DELETE": 2}.get(cell.route.method, 1)


def cells() -> list[Cell]:
    everyone = list(world().actors.values())
    found = []
    for route in routes():
        rule = RULES.get(route.key)
        if rule is None:
            continue  # test_every_route_has_a_rule names it
        labels: list[str | None] = [None]
        if rule.kind is not None:
            labels = [*world().objects.get(rule.kind, {}), NONEXISTENT]
        found += [Cell(route, rule, actor, label) for actor in everyone for label in labels]
    return sorted(found, key=phase)  # stable: the documents' order within a phase


# --- what each cell should answer ---------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    statuses: frozenset[int]
    why: str


OK = frozenset(range(200, 300))


def expected(cell: Cell, gone: bool) -> Expected:
    """Who is let in by role first (401, 403), then by reach over the object (404)."""
    rule, actor = cell.rule, cell.actor
    let_in = OK | frozenset(rule.also_ok)
    if cell.route.method != "GET":
        let_in |= WRITE_ANSWERS
    if rule.public:
        return Expected(let_in, "public")
    if actor.role is None:
        return Expected(frozenset({401}), "no token")
    scope = rule.roles.get(actor.role)
    if scope is None:
        return Expected(frozenset({403}), f"{actor.role} may not call it")
    if cell.label == NONEXISTENT:
        return Expected(frozenset({404}), "no such object")
    return by_reach(cell, scope, let_in, gone)


def by_reach(cell: Cell, scope: Scope, let_in: frozenset[int], gone: bool) -> Expected:
    if cell.label is None:  # a collection: what it is about is the caller's own class, family
        return reach(scope, cell.actor, world().home[cell.actor.school], let_in)
    want = reach(scope, cell.actor, world().objects[cell.rule.kind or ""][cell.label], let_in)
    if gone:  # an earlier caller in reach deleted it (or the student left): unknown by now
        return Expected(want.statuses | {404}, want.why + ", or gone by now")
    return want


def reach(scope: Scope, actor: Actor, obj: Obj, let_in: frozenset[int]) -> Expected:
    if obj.school not in (actor.school, "*"):
        return Expected(frozenset({404}), "another school's object")
    if scope is SCHOOL:
        return Expected(let_in, "in the caller's school")
    relations = {
        Scope.CLASS: bool(obj.classes & (actor.leads | actor.teaches)),
        Scope.TEACHES: bool(obj.classes & actor.teaches),
        Scope.CHILD: bool(obj.students & actor.children),
        Scope.SELF: actor.person_id in obj.people,
    }
    if relations[scope]:
        return Expected(let_in, f"{scope.value}: in reach")
    if scope is Scope.TEACHES and obj.classes & actor.leads:
        return Expected(frozenset({403}), "leads the class but does not teach there")
    return Expected(frozenset({404}), f"{scope.value}: out of reach, like an unknown id")


# --- the requests -------------------------------------------------------------------------


def path_of(cell: Cell) -> str:
    object_id = str(uuid4())
    if cell.label not in (None, NONEXISTENT):
        object_id = world().objects[cell.rule.kind or ""][cell.label].id
    return PARAMETER.sub(object_id, cell.route.path)


def query_of(route: Route, school: str) -> dict[str, str]:
    """Required query parameters, and the ones a page needs to show anything."""
    wanted = {}
    document = _DOCUMENT.set(route.service)
    for parameter in route.operation.get("parameters", []):
        name = parameter.get("name", "")
        if parameter.get("in") == "query" and (parameter.get("required") or name in WANTED):
            wanted[name] = str(value_for(name, parameter.get("schema", {}), school))
    _DOCUMENT.reset(document)
    return wanted


WANTED = {"subject_id", "period_id", "dry_run"}
# Optional body fields the matrix fills all the same: a diary acknowledgement needs its
# `until`, a plan or timetable line its class (of class_id, group_id, student_id: one).
FILLED_WHEN_OPTIONAL = {"class_id", "until"}
START = datetime.combine(TODAY, datetime.min.time(), UTC) + timedelta(hours=6)
GENERIC_VALUES = {
    "dry_run": "true",
    "until": str(TODAY - timedelta(days=1)),
    "starts_at": START.isoformat(),
    "ends_at": (START + timedelta(minutes=45)).isoformat(),
    "value": "4",  # a mark of the five-point scale the schools use
    "reason": "Ошибка при вводе",
}


def value_for(name: str, schema: dict[str, Any], school: str) -> Any:
    """A valid-looking value: the caller's school's own object by the field's name (so an
    allowed caller's write can succeed), else one made from the field's type."""
    named = {**GENERIC_VALUES, **world().values[school]}
    named["to_class_id"] = named["class_id"]
    if name in named and named[name] in schema.get("enum", [named[name]]):
        return named[name]
    if name.endswith("_ids") and name[:-1] in named:
        return [named[name[:-1]]]
    if "enum" in schema:
        return schema["enum"][0]
    return by_type(schema, school)


def by_type(schema: dict[str, Any], school: str) -> Any:
    kind, form = schema.get("type"), schema.get("format")
    formats = {
        "date": TODAY.isoformat,
        "date-time": lambda: datetime.now(UTC).isoformat(),
        "uuid": lambda: str(uuid4()),
        "email": lambda: "someone@example.org",
    }
    if form in formats:
        return formats[form]()
    if kind == "array":
        item = resolved(schema.get("items", {}))
        return [by_type(item, school)] if schema.get("minItems") else []
    if kind == "object" or "properties" in schema:
        return body_from(schema, school)
    simple: dict[str | None, Any] = {"integer": 1, "number": 1, "boolean": False}
    if kind in simple:
        return simple[kind]
    return "x" * max(3, schema.get("minLength", 3))


def body_from(schema: dict[str, Any], school: str) -> dict[str, Any]:
    schema = resolved(schema)
    properties = schema.get("properties", {})
    return {
        name: value_for(name, resolved(properties.get(name, {})), school)
        for name in properties
        if name in schema.get("required", [])
        or (name in FILLED_WHEN_OPTIONAL and not properties[name].get("readOnly"))
    }


# Whose OpenAPI document a `$ref` points into: apispec names nested schemas itself, so two
# services may each have a schema of the same name (and which one gets a suffix can change
# from run to run with the hash seed).
_DOCUMENT: ContextVar[str] = ContextVar("document")


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if not reference:
        return schema
    name = reference.rsplit("/", 1)[1]
    found = documents()[_DOCUMENT.get()].get("components", {}).get("schemas", {}).get(name)
    assert found is not None, f"{_DOCUMENT.get()}'s OpenAPI document has no schema {name}"
    return resolved(found)


def json_body(route: Route, school: str) -> dict[str, Any] | None:
    content = route.operation.get("requestBody", {}).get("content", {})
    if route.method == "GET" or "application/json" not in content:
        return None
    document = _DOCUMENT.set(route.service)
    try:
        return body_from(content["application/json"].get("schema", {}), school)
    finally:
        _DOCUMENT.reset(document)


# --- the tests ----------------------------------------------------------------------------

CELLS = cells()
# (service, route, object label) of objects a cell in reach has taken away (deleted, left)
GONE: set[tuple[str, str, str]] = set()


def test_every_route_has_a_rule() -> None:
    missing = sorted(f"{s} {r}" for s, r in {route.key for route in routes()} - RULES.keys())
    assert not missing, "routes without a rule in tests/authz/rules.py:\n" + "\n".join(missing)


def test_every_rule_names_a_route() -> None:
    stale = sorted(f"{s} {r}" for s, r in RULES.keys() - {route.key for route in routes()})
    assert not stale, "rules of routes no OpenAPI document has:\n" + "\n".join(stale)


def test_every_kind_has_its_objects() -> None:
    kinds = {rule.kind for rule in RULES.values() if rule.kind}
    unseeded = sorted(kind for kind in kinds if "own" not in world().objects.get(kind, {}))
    assert not unseeded, f"world.py seeds no object of these kinds: {unseeded}"


def known_defects() -> dict[str, str]:
    """Cell id -> the defect it shows, unless AUTHZ_IGNORE_KNOWN_DEFECTS is set."""
    if os.environ.get("AUTHZ_IGNORE_KNOWN_DEFECTS"):
        return {}
    return {cell: defect for defect, cells in KNOWN_DEFECTS.items() for cell in cells}


def as_param(cell: Cell, defects: dict[str, str]) -> Any:
    if cell.id not in defects:
        return pytest.param(cell, id=cell.id)
    return pytest.param(
        cell, id=cell.id, marks=pytest.mark.xfail(reason=defects[cell.id], strict=True)
    )


def test_every_known_defect_names_a_cell() -> None:
    ids = {cell.id for cell in CELLS}
    stale = sorted(cell for cells in KNOWN_DEFECTS.values() for cell in cells if cell not in ids)
    assert not stale, f"known_defects.py names cells the matrix does not have: {stale}"


def url_of(cell: Cell) -> str:
    """Where the cell's route is served: /metrics at the process's root only (Prometheus
    scrapes it there, on the ops network), every other route under /api/<service>."""
    if cell.route.path == "/metrics":
        return "/metrics"
    return f"/api/{cell.route.service}{path_of(cell)}"


@pytest.mark.parametrize("cell", [as_param(cell, known_defects()) for cell in CELLS])
def test_cell(cell: Cell) -> None:
    taken = (cell.route.service, f"{cell.route.method} {cell.route.path}", cell.label or "")
    want = expected(cell, taken in GONE)
    school = cell.actor.school or next(iter(world().home))  # anonymous: school 1's values
    service = world().services[cell.route.service]
    answer = service.client.open(
        url_of(cell),
        method=cell.route.method,
        query_string=query_of(cell.route, school),
        json=json_body(cell.route, school),
        headers=world().headers(cell.actor, cell.route.service),
        buffered=True,
    )
    # Read it all and close it: a streamed answer (an export) holds its database
    # connection, and SQLite's lock, until then.
    text = answer.get_data().decode(errors="replace")  # PDFs and zips too
    answer.close()
    if phase(cell) == 2 and cell.label and answer.status_code < 300:
        GONE.add(taken)
    assert answer.status_code in want.statuses, (
        f"expected {sorted(want.statuses) if len(want.statuses) < 10 else '2xx'} ({want.why}), "
        f"got {answer.status_code}: {text[:200]}"
    )
    if cell.route.method == "GET" and cell.label is None and answer.status_code < 300:
        leaked = out_of_reach_in(cell, text)
        assert not leaked, f"a list shows what is out of the caller's reach: {leaked}"


# The objects that are someone's personal data (or name someone): a list a caller may read
# must never show one of them that is out of the caller's reach.
PERSONAL_KINDS = (
    "student",
    "student_victim",
    "guardian",
    "addressee",
    "guardianship",
    "invitation",
    "mark",
    "correction",
    "consent",
    "agreement",
)


def out_of_reach_in(cell: Cell, text: str) -> list[str]:
    scope = cell.rule.roles.get(cell.actor.role or "")
    if scope is None:
        return []
    return [
        f"{kind} [{label}]"
        for kind in PERSONAL_KINDS
        for label, obj in world().objects.get(kind, {}).items()
        if obj.id in text and not reach(scope, cell.actor, obj, OK).statuses & OK
    ]
