"""The world the authorisation matrix runs in: the six services in-process, two schools.

Every service runs its real `create_app()` on its own migrated SQLite database, and is
seeded through its own HTTP API (as the school's administrator or director) or, for what
it only learns from other services, by applying the events the others really wrote to
their outboxes through its own consumer handlers (validated against contracts/ first), in
the order they were written: exactly what the workers would do, without a broker.

School 1 holds class A (family 1: the guardian and student actors; taught by the subject
teacher actor, led by the class-teacher actor) and class B (family 2, another class
teacher: the "foreign" objects). School 2 holds class X (family 3: the "other school").
"""

from __future__ import annotations

import atexit
import importlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from identity.bootstrap import ensure_admin
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings, project_root
from schoolkit.tables import outbox
from schoolkit.testing import TokenIssuer, create_database, drop_database

SERVICES = ("identity", "journal", "diary", "consent", "notify", "archive")
PASSWORD = "Матрица прав доступа 2026"
# identity signs its tokens for 10 minutes: an actor signs in again after 5.
IDENTITY_TOKEN_REUSE_SECONDS = 300.0
TODAY = date.today()
# A school year and a term around today, so every "default: today's period" finds one.
YEAR_START = date(TODAY.year if TODAY.month >= 9 else TODAY.year - 1, 9, 1)
YEAR_END = date(YEAR_START.year + 1, 6, 30)


@dataclass(frozen=True)
class Obj:
    """One object a path parameter can name, and what relates an actor to it."""

    id: str
    school: str
    classes: frozenset[str] = frozenset()  # the classes it belongs to (a student's, a mark's)
    students: frozenset[str] = frozenset()  # the students it is about
    people: frozenset[str] = frozenset()  # the people it is (or is of), for "self"


@dataclass(frozen=True)
class Actor:
    name: str
    role: str | None  # None: anonymous
    school: str = ""
    person_id: str = ""
    leads: frozenset[str] = frozenset()  # the classes a class teacher leads
    teaches: frozenset[str] = frozenset()  # the classes a teacher teaches a subject in
    children: frozenset[str] = frozenset()  # a guardian's children; a student's own id


@dataclass
class Service:
    name: str
    app: Flask
    client: FlaskClient
    database: Database
    relayed: int = 0  # outbox rows already handed to the consumers


@dataclass
class World:
    services: dict[str, Service]
    actors: dict[str, Actor] = field(default_factory=dict)
    # kind -> label ("own", "foreign", "other_school") -> object
    objects: dict[str, dict[str, Obj]] = field(default_factory=dict)
    # school -> field name -> the school's own object: how the matrix fills a query or
    # body field (`student_id`, `period_id`…) with something valid for the caller's school
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    # school -> the object a route without a path parameter is about: the school's own
    # class and family (class A, family 1; class X, family 3)
    home: dict[str, Obj] = field(default_factory=dict)
    _identity_tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    # actor -> (login, school, when signed in): identity's tokens live 10 minutes, and the
    # world is built at collection, often longer ago than that when the matrix runs.
    _identity_logins: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    _issuer: TokenIssuer | None = None

    def headers(self, actor: Actor, service: str) -> dict[str, str]:
        """The actor's Authorization header for one service (none for anonymous)."""
        if actor.role is None:
            return {}
        if service == "identity":
            return self._fresh_identity_token(actor.name)
        assert self._issuer is not None
        return self._issuer.bearer(
            sub=actor.person_id, school_id=actor.school, roles=[actor.role], sid=str(uuid4())
        )

    def sign_in_to_identity(self, name: str, login: str, school: str) -> dict[str, str]:
        self._identity_tokens[name] = sign_in(self, login, school)
        self._identity_logins[name] = (login, school, time.monotonic())
        return self._identity_tokens[name]

    def _fresh_identity_token(self, name: str) -> dict[str, str]:
        login, school, signed_in_at = self._identity_logins[name]
        if time.monotonic() - signed_in_at > IDENTITY_TOKEN_REUSE_SECONDS:
            return self.sign_in_to_identity(name, login, school)
        return self._identity_tokens[name]

    def add(self, kind: str, label: str, obj: Obj) -> Obj:
        self.objects.setdefault(kind, {})[label] = obj
        return obj


def new_id() -> str:
    return str(uuid4())


# --- the apps -------------------------------------------------------------------------


# The journal runs on PostgreSQL: on SQLite a streamed export leaves the database locked,
# and the next request that fails waits 10 s for the lock and answers 500 (reported).
ON_POSTGRES = ("journal",)


def start_services(workdir: Path, issuer: TokenIssuer) -> dict[str, Service]:
    services = {}
    for name in SERVICES:
        url = f"sqlite:///{workdir / name}.db"
        if name in ON_POSTGRES:
            url = create_database(f"authz_{name}")
            atexit.register(drop_database, url)
        upgrade(name, url)
        settings = Settings.from_env(
            name, database_url=url, deny_list_refresh_seconds=0.0, **issuer.settings_overrides()
        )
        app = importlib.import_module(f"{name}.app").create_app(settings)
        services[name] = Service(name, app, app.test_client(), Database(url))
    return services


def handlers_of(name: str) -> dict[str, Callable[..., Any]]:
    module = importlib.import_module(f"{name}.handlers")
    return module.HANDLERS  # type: ignore[no-any-return]


def relay_all(services: dict[str, Service]) -> None:
    """Hand every new outbox event to every service that consumes its type, as the
    workers would, until nothing new is written (handlers may publish in turn)."""
    contracts = load_contracts(project_root() / "contracts")
    consumers = {name: handlers_of(name) for name in SERVICES}
    while pending := list(_new_events(services)):
        for envelope in pending:
            contracts.validate(envelope)
            event = Event.from_dict(envelope)
            for name, handlers in consumers.items():
                if event.type in handlers:
                    with services[name].database.transaction() as session:
                        handlers[event.type](session, event)


def _new_events(services: dict[str, Service]) -> Iterator[dict[str, Any]]:
    for service in services.values():
        with service.database.transaction() as session:
            rows = session.execute(
                select(outbox.c.id, outbox.c.body)
                .where(outbox.c.id > service.relayed)
                .order_by(outbox.c.id)
            ).all()
        for row in rows:
            service.relayed = row.id
            yield json.loads(row.body)


# --- calling the APIs while seeding ----------------------------------------------------


def call(world: World, request: str, actor: Actor, body: Any = None) -> Any:
    """`request` is "service METHOD /path"; the call must succeed."""
    service, method, path = request.split(" ", 2)
    client = world.services[service].client
    answer = client.open(
        f"/api/{service}{path}", method=method, json=body, headers=world.headers(actor, service)
    )
    answer.close()
    assert answer.status_code < 300, (method, path, answer.status_code, answer.get_data(True))
    return answer.get_json(silent=True)


def sign_in(world: World, login: str, school: str) -> dict[str, str]:
    """identity's own password grant: identity trusts only the tokens it signs itself."""
    form = {
        "grant_type": "password",
        "username": login,
        "password": PASSWORD,
        "client_id": "web",
        "school_id": school,
    }
    answer = world.services["identity"].client.post("/api/identity/oauth/token", data=form)
    assert answer.status_code == 200, answer.get_data(True)
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def person(
    world: World, admin: Actor, kind: str, name: str, roles: list[str] | None = None, **extra: Any
) -> str:
    body: dict[str, Any] = {"kind": kind, "last_name": name, "first_name": "Тест", **extra}
    if kind == "staff":
        body["roles"] = roles or []
    if kind == "student":
        body["birth_date"] = "2014-03-02"
    return str(call(world, "identity POST /v1/people", admin, body)["id"])


def account(
    world: World, admin: Actor, kind: str, name: str, role: str, *, login: str | None = None
) -> Actor:
    """A person with a login, signed in to identity; the same person for the others."""
    login = login or name
    roles = [role] if kind == "staff" else None
    # A guardian's address is how notify comes to know them (identity.contact.changed).
    extra = {"email": f"{login}@example.org"} if kind == "guardian" else {}
    person_id = person(world, admin, kind, login, roles, login=login, password=PASSWORD, **extra)
    actor = Actor(name, role, admin.school, person_id)
    world.sign_in_to_identity(name, login, admin.school)
    world.actors[name] = actor
    return actor


# --- the seeding -------------------------------------------------------------------------


@dataclass
class School:
    """The ids one school's seeding hands on from step to step."""

    id: str
    admin: Actor
    director: Actor
    year: str = ""
    period: str = ""
    subject: str = ""
    work_type: str = ""


def build_world(workdir: Path, issuer: TokenIssuer) -> World:
    world = World(start_services(workdir, issuer), _issuer=issuer)
    world.actors["anonymous"] = Actor("anonymous", None)
    one, two = (
        _school(world, "administrator", "director"),
        _school(world, "administrator@2", "director@2"),
    )
    people = _people(world, one, two)
    _journal(world, one, two, people)
    relay_all(world.services)
    _consents(world, one, two, people)
    relay_all(world.services)
    _ops_objects(world, one, two)
    relay_all(world.services)
    # Erasures last and never relayed: they would erase their (victim) subjects everywhere.
    _erasures(world, one, two, people)
    return world


def _school(world: World, admin_name: str, director_name: str) -> School:
    school_id = new_id()
    database = world.services["identity"].database
    ensure_admin(database, admin_name.replace("@", "-"), PASSWORD, school_id)
    world.sign_in_to_identity(admin_name, admin_name.replace("@", "-"), school_id)
    me = world.services["identity"].client.get(
        "/api/identity/v1/me", headers=world._identity_tokens[admin_name]
    )
    admin = Actor(admin_name, "administrator", school_id, me.get_json()["id"])
    world.actors[admin_name] = admin
    login = director_name.replace("@", "-")
    director = account(world, admin, "staff", director_name, "director", login=login)
    return School(school_id, admin, director)


@dataclass
class People:
    ids: dict[str, str]  # short name -> person id

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


def _people(world: World, one: School, two: School) -> People:
    """Staff, families and their guardianships in identity."""
    ids: dict[str, str] = {}
    for role in ("deputy_director", "class_teacher", "subject_teacher", "operations"):
        ids[role] = account(world, one.admin, "staff", role, role).person_id
    ids["guardian"] = account(world, one.admin, "guardian", "guardian", "guardian").person_id
    ids["student"] = account(world, one.admin, "student", "student", "student").person_id
    guardian_2 = account(world, two.admin, "guardian", "guardian@2", "guardian", login="guardian-2")
    ids["guardian@2"] = guardian_2.person_id
    ids["class_teacher_b"] = person(world, one.admin, "staff", "КлассныйБ", ["class_teacher"])
    ids["teacher_x"] = person(world, two.admin, "staff", "УчительХ", ["subject_teacher"])
    for name, school in (("s2", one), ("vs1", one), ("vs2", one), ("s3", two), ("vs3", two)):
        ids[name] = person(world, school.admin, "student", name)
    for name, school in (
        ("g2", one),
        ("g1b", one),
        ("g2b", one),
        ("vg1", one),
        ("g3b", two),
        ("vg3", two),
    ):
        # Accounts too: blocking and temporary passwords are about someone's account.
        login = {"login": f"login-{name}", "password": PASSWORD}
        ids[name] = person(world, school.admin, "guardian", name, email=f"{name}@x.org", **login)
    links = {}
    for guardian, student, school in (
        ("guardian", "student", one),
        ("g2", "s2", one),
        ("guardian@2", "s3", two),
        ("g1b", "student", one),
        ("g2b", "s2", one),
        ("g3b", "s3", two),
        ("vg1", "vs1", one),
        ("vg3", "vs3", two),
    ):
        body = {"guardian_id": ids[guardian], "student_id": ids[student]}
        links[guardian] = call(world, "identity POST /v1/guardianships", school.admin, body)
    _people_objects(world, one, two, ids, links)
    return People(ids)


def _people_objects(
    world: World, one: School, two: School, ids: dict[str, str], links: dict[str, Any]
) -> None:
    """Who is whose: the class each family's student is in (A, B, X) decides reach."""
    families = {
        "own": (one.id, "A", "student", "guardian", "g1b", "vs1"),
        "foreign": (one.id, "B", "s2", "g2", "g2b", "vs2"),
        "other_school": (two.id, "X", "s3", "guardian@2", "g3b", "vs3"),
    }
    for label, (school, klass, student, guardian, co_guardian, victim) in families.items():
        of_student = frozenset({ids[student]})
        world.add(
            "student", label, Obj(ids[student], school, frozenset({klass}), of_student, of_student)
        )
        world.add(
            "student_victim",
            label,
            Obj(
                ids[victim],
                school,
                frozenset({klass}),
                frozenset({ids[victim]}),
                frozenset({ids[victim]}),
            ),
        )
        for kind, who in (("guardian", co_guardian), ("addressee", guardian)):
            world.add(
                kind,
                label,
                Obj(ids[who], school, frozenset({klass}), of_student, frozenset({ids[who]})),
            )
        if label != "foreign":
            world.values.setdefault(school, {})["guardian_id"] = ids[guardian]
            people = frozenset({ids[student], ids[guardian]})
            world.home[school] = Obj("", school, frozenset({klass}), of_student, people)
        link_id = str(links[co_guardian].get("id") or links[co_guardian].get("link_id"))
        world.add("guardianship", label, Obj(link_id, school, frozenset({klass}), of_student))


def _journal(world: World, one: School, two: School, people: People) -> None:
    """The year, classes, teaching load, contingent and a lesson with a mark per class."""
    classes = {
        "A": (one, people["class_teacher"], people["subject_teacher"], people["student"], "vs1"),
        "B": (one, people["class_teacher_b"], people["class_teacher_b"], people["s2"], "vs2"),
        "X": (two, None, people["teacher_x"], people["s3"], "vs3"),
    }
    for school in (one, two):
        _school_year(world, school)
    labels = {"A": "own", "B": "foreign", "X": "other_school"}
    for klass, (school, leader, teacher, student, victim) in classes.items():
        _class(
            world,
            school,
            klass=klass,
            label=labels[klass],
            leader=leader,
            teacher=teacher,
            students=[student, people[victim]],
        )
    _actors_relations(world, people)


def _school_year(world: World, school: School) -> None:
    director = school.director
    label = "own" if school.admin.name == "administrator" else "other_school"

    def post(path: str, body: dict[str, Any]) -> Any:
        return call(world, "journal POST " + path, director, body)

    starts, ends = YEAR_START.isoformat(), YEAR_END.isoformat()
    school.year = post("/v1/years", {"name": "Год", "starts_on": starts, "ends_on": ends})[
        "year_id"
    ]
    term = {"year_id": school.year, "kind": "quarter", "name": "Четверть"}
    school.period = post("/v1/periods", {**term, "starts_on": starts, "ends_on": ends})["period_id"]
    school.subject = post("/v1/subjects", {"name": "Математика"})["subject_id"]
    work_type = {"code": "oral", "name": "Устный", "weight": 1}
    school.work_type = post("/v1/work-types", work_type)["work_type_id"]
    bells = {"bells": [{"slot": 1, "starts": "08:30", "ends": "09:15"}]}
    call(world, "journal PUT /v1/bells", director, bells)
    room = post("/v1/rooms", {"name": "Кабинет 1"})["room_id"]
    last_day = (YEAR_END - timedelta(days=3)).isoformat()
    holiday = {
        "year_id": school.year,
        "name": "Каникулы",
        "starts_on": last_day,
        "ends_on": last_day,
    }
    holiday_id = _id_of(post("/v1/holidays", holiday), "holiday_id")
    for kind, object_id in (
        ("year", school.year),
        ("period", school.period),
        ("subject", school.subject),
        ("room", room),
        ("holiday", holiday_id),
    ):
        world.add(kind, label, Obj(object_id, school.id))
    world.values.setdefault(school.id, {}).update(
        year_id=school.year,
        period_id=school.period,
        subject_id=school.subject,
        work_type_id=school.work_type,
        room_id=room,
    )


def _id_of(answer: Any, key: str) -> str:
    return str(answer.get(key) or answer["id"])


def _class(
    world: World,
    school: School,
    *,
    klass: str,
    label: str,
    leader: str | None,
    teacher: str,
    students: list[str],
) -> None:
    director = school.director

    def post(path: str, body: dict[str, Any]) -> Any:
        return call(world, "journal POST " + path, director, body)

    body = {"year_id": school.year, "name": f"5{klass}", "grade": 5, "class_teacher_id": leader}
    class_id = post("/v1/classes", body)["class_id"]
    post(
        "/v1/assignments",
        {"teacher_id": teacher, "subject_id": school.subject, "class_id": class_id},
    )
    for student in students:
        post(
            f"/v1/classes/{class_id}/enrolments",
            {"student_id": student, "enrolled_on": YEAR_START.isoformat()},
        )
    moment = datetime.combine(TODAY, datetime.min.time(), UTC) + timedelta(hours=6)
    lesson = {
        "class_id": class_id,
        "subject_id": school.subject,
        "teacher_id": teacher,
        "date": TODAY.isoformat(),
        "slot": 1,
        "starts_at": moment.isoformat(),
        "ends_at": (moment + timedelta(minutes=45)).isoformat(),
        "topic": "Дроби",
    }
    lesson_id = post("/v1/lessons", lesson)["lesson_id"]
    mark = {
        "lesson_id": lesson_id,
        "student_id": students[0],
        "work_type_id": school.work_type,
        "value": "5",
    }
    mark_id = post("/v1/marks", mark)["mark_id"]
    group = {
        "kind": "group",
        "name": f"Группа {klass}",
        "class_ids": [class_id],
        "student_ids": [students[0]],
    }
    group_id = post("/v1/groups", group)["group_id"]
    entry = {
        "class_id": class_id,
        "weekday": 1,
        "slot": 1,
        "subject_id": school.subject,
        "teacher_id": teacher,
    }
    entry_id = post("/v1/timetable", entry)["entry_id"]
    plan = {
        "subject_id": school.subject,
        "class_id": class_id,
        "period_id": school.period,
        "topics": [{"lesson_number": 1, "topic": "Дроби"}],
    }
    plan_id = _id_of(post("/v1/plans", plan), "plan_id")
    of_class = frozenset({klass})
    about = frozenset({students[0]})
    for kind, object_id, students_of in (
        ("class", class_id, frozenset()),
        ("lesson", lesson_id, frozenset()),
        ("mark", mark_id, about),
        ("group", group_id, frozenset()),
        ("timetable_entry", entry_id, frozenset()),
        ("plan", plan_id, frozenset()),
    ):
        world.add(kind, label, Obj(object_id, school.id, of_class, students_of))
    world.add(
        "teacher", label, Obj(teacher, school.id, of_class, frozenset(), frozenset({teacher}))
    )
    correction = _correction(
        world, school, teacher, class_id=class_id, student=students[0], mark_id=mark_id
    )
    world.add("correction", label, Obj(correction, school.id, of_class, about))
    if label != "foreign":
        world.values[school.id].update(
            class_id=class_id, lesson_id=lesson_id, mark_id=mark_id, group_id=group_id
        )
        world.values[school.id].update(teacher_id=teacher, student_id=students[0])


def _correction(
    world: World, school: School, teacher: str, *, class_id: str, student: str, mark_id: str
) -> str:
    """The class's final marks lock the period for its teacher, who then asks to change
    the mark: the only way a correction request comes to be (journal README)."""
    finals = {
        "period_id": school.period,
        "class_id": class_id,
        "subject_id": school.subject,
        "finals": [{"student_id": student, "value": "5"}],
    }
    call(world, "journal POST /v1/finals", school.director, finals)
    the_teacher = Actor("teacher", "subject_teacher", school.id, teacher)
    asked = {"mark_id": mark_id, "value": "4", "reason": "Ошибка при вводе"}
    answer = call(world, "journal POST /v1/corrections", the_teacher, asked)
    return _id_of(answer, "request_id")


def _actors_relations(world: World, people: People) -> None:
    """Who leads, teaches or is whose: the relations the rules' scopes are about."""
    relations = {
        "class_teacher": {"leads": frozenset({"A"})},
        "subject_teacher": {"teaches": frozenset({"A"})},
        "guardian": {"children": frozenset({people["student"]})},
        "student": {"children": frozenset({people["student"]})},
        "guardian@2": {"children": frozenset({people["s3"]})},
    }
    for name, relation in relations.items():
        world.actors[name] = replace(world.actors[name], **relation)


FAMILIES = {  # label -> (guardian, student) of that family, the third on school 2
    "own": ("guardian", "student"),
    "foreign": ("g2", "s2"),
    "other_school": ("guardian@2", "s3"),
}
CLASS_OF = {"own": "A", "foreign": "B", "other_school": "X"}


def _consents(world: World, one: School, two: School, people: People) -> None:
    """A consent and a diary agreement per family, registered by the school's administrator."""
    for label, (guardian, student) in FAMILIES.items():
        school = two if label == "other_school" else one
        pair = {"guardian_id": people[guardian], "student_id": people[student]}
        consent = {
            **pair,
            "representation": "parent",
            "decision": "given",
            "signed_on": YEAR_START.isoformat(),
        }
        consent_id = _id_of(
            call(world, "consent POST /v1/consents", school.admin, consent), "consent_id"
        )
        agreement = {**pair, "applied_on": YEAR_START.isoformat()}
        answer = call(world, "consent POST /v1/agreements", school.admin, agreement)
        family = _family_obj(people, label, school.id)
        world.add("consent", label, replace(family, id=consent_id))
        world.add("agreement", label, replace(family, id=_id_of(answer, "agreement_id")))


def _family_obj(people: People, label: str, school: str) -> Obj:
    guardian, student = FAMILIES[label]
    return Obj(
        "",
        school,
        frozenset({CLASS_OF[label]}),
        frozenset({people[student]}),
        frozenset({people[guardian], people[student]}),
    )


def _ops_objects(world: World, one: School, two: School) -> None:
    """Registration codes, backups, the consent templates."""
    for label, student in world.objects["student"].items():
        school = two if label == "other_school" else one
        body = {"student_id": student.id, "registers": "guardian"}
        invitation = call(world, "identity POST /v1/invitations", school.admin, body)
        world.add(
            "invitation",
            label,
            replace(student, id=_id_of(invitation, "invitation_id"), people=frozenset()),
        )
    for label, school in (("own", one), ("other_school", two)):
        backup = call(world, "archive POST /v1/backups", school.admin)
        backup_id = _id_of(backup, "backup_id")
        world.add("backup", label, Obj(backup_id, school.id))
        world.values[school.id]["backup_id"] = backup_id
    templates = call(world, "consent GET /v1/templates", one.admin)
    items = templates["items"] if isinstance(templates, dict) else templates
    world.add("template", "own", Obj(_id_of(items[0], "template_id"), "*"))
    # subjects: the one data set the administrator both exports and imports (journal)
    world.add("dataset", "own", Obj("subjects", "*"))


def _erasures(world: World, one: School, two: School, people: People) -> None:
    """An erasure per school: a victim family's consent given, then withdrawn."""
    for label, school, guardian, student in (
        ("own", one, "vg1", "vs1"),
        ("other_school", two, "vg3", "vs3"),
    ):
        pair = {"guardian_id": people[guardian], "student_id": people[student]}
        consent = {
            **pair,
            "representation": "parent",
            "decision": "given",
            "signed_on": YEAR_START.isoformat(),
        }
        consent_id = _id_of(
            call(world, "consent POST /v1/consents", school.admin, consent), "consent_id"
        )
        withdrawal = {"received_at": datetime.now(UTC).isoformat()}
        call(
            world,
            f"consent POST /v1/consents/{consent_id}/withdrawal",
            school.admin,
            withdrawal,
        )
        erasures = call(world, "consent GET /v1/erasures", school.admin)
        items = erasures["items"] if isinstance(erasures, dict) else erasures
        world.add("erasure", label, Obj(_id_of(items[0], "erasure_id"), school.id))
