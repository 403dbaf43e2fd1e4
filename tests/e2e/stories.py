"""The steps the cross-service stories share: a running system with an administrator, a
family with consent and a diary agreement, a class in the journal with a mark."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from sqlalchemy import select

from schoolkit.db import Database
from schoolkit.tables import tombstones
from schoolkit.testing import Mailbox

from .system import System

SERVICES = ("identity", "journal", "consent", "diary", "notify", "archive")
ADMIN_PASSWORD = "Пароль администратора 2025"


def start(
    start_system: Callable[..., System],
    mailbox: Mailbox,
    store: str = "postgresql",
    environment: Mapping[str, str] | None = None,
    services: tuple[str, ...] = SERVICES,
) -> tuple[System, dict[str, str]]:
    system = start_system(
        *services,
        store=store,
        extra_environment={
            "NOTIFY_SMTP_PORT": str(mailbox.port),
            "ERASURE_PARTICIPANTS": ",".join(SERVICES),
            "ERASURE_SWEEP_SECONDS": "1",
            **(environment or {}),
        },
    )
    system.run_command(
        "identity", "identity-bootstrap-admin", BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD
    )
    form = {
        "grant_type": "password",
        "username": "admin",
        "password": ADMIN_PASSWORD,
        "client_id": "web",
    }
    token = requests.post(system.url("/api/identity/oauth/token"), data=form, timeout=10).json()[
        "access_token"
    ]
    return system, {"Authorization": f"Bearer {token}"}


def post(system: System, path: str, body: dict[str, Any], admin: dict[str, str]) -> dict[str, Any]:
    answer = requests.post(system.url(path), json=body, headers=admin, timeout=15)
    assert answer.status_code in (200, 201, 202), (path, answer.text)
    return answer.json()


def a_family_with_consent(system: System, admin: dict[str, str]) -> tuple[str, str, str]:
    guardian = post(
        system,
        "/api/identity/v1/people",
        {
            "kind": "guardian",
            "last_name": "Смирнова",
            "first_name": "Ольга",
            "email": "olga@example.org",
            "login": "olga",
            "password": "Надёжный пароль 2025",
        },
        admin,
    )
    student = post(
        system,
        "/api/identity/v1/people",
        {
            "kind": "student",
            "last_name": "Смирнов",
            "first_name": "Илья",
            "birth_date": "2014-03-02",
        },
        admin,
    )
    post(
        system,
        "/api/identity/v1/guardianships",
        {"guardian_id": guardian["id"], "student_id": student["id"]},
        admin,
    )
    consent = post_once_consent_knows_the_family(
        system,
        "/api/consent/v1/consents",
        {
            "guardian_id": guardian["id"],
            "student_id": student["id"],
            "representation": "parent",
            "decision": "given",
            "signed_on": "2025-09-01",
        },
        admin,
    )
    post(
        system,
        "/api/consent/v1/agreements",
        {"guardian_id": guardian["id"], "student_id": student["id"], "applied_on": "2025-09-02"},
        admin,
    )
    return guardian["id"], student["id"], consent["id"]


# What consent answers while identity's events about a family are still on their way.
NOT_YET_KNOWN = {"unknown_student", "unknown_guardian", "not_linked"}


def post_once_consent_knows_the_family(
    system: System, path: str, body: dict[str, Any], headers: dict[str, str], timeout: float = 30.0
) -> dict[str, Any]:
    """Consent registers only for a family that identity links in the school; identity's
    people and the link reach it over the bus a moment after identity answered, so the
    registrar asks again until they have (a refusal changes nothing)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.post(system.url(path), json=body, headers=headers, timeout=15)
        waiting = answer.status_code == 422 and answer.json()["error"]["code"] in NOT_YET_KNOWN
        if not waiting:
            assert answer.status_code in (200, 201), (path, answer.text)
            return answer.json()
        assert time.monotonic() < deadline, f"consent never learnt the family: {answer.text}"
        time.sleep(0.2)


def wait_until_finished(
    system: System, erasure_id: str, admin: dict[str, str], timeout: float = 30.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = requests.get(
            system.url(f"/api/consent/v1/erasures/{erasure_id}"), headers=admin, timeout=10
        ).json()
        if status["status"] == "finished":
            return status
        assert time.monotonic() < deadline, f"not finished: {status['participants']}"
        time.sleep(0.2)


def buried_in(system: System, service: str, subject_id: str) -> bool:
    database = Database(system.running[service].database_url)
    try:
        with database.transaction() as session:
            found = session.execute(
                select(tombstones.c.subject_id).where(tombstones.c.subject_id == subject_id)
            )
            return found.first() is not None
    finally:
        database.dispose()


STAFF_PASSWORD = "Учительский пароль 2025"


def sign_in(system: System, login: str, password: str) -> dict[str, str]:
    form = {"grant_type": "password", "username": login, "password": password, "client_id": "web"}
    answer = requests.post(system.url("/api/identity/oauth/token"), data=form, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def staff(system: System, admin: dict[str, str], login: str, role: str) -> tuple[str, dict]:
    person = post(
        system,
        "/api/identity/v1/people",
        {
            "kind": "staff",
            "last_name": "Учителева",
            "first_name": "Анна",
            "roles": [role],
            "login": login,
            "password": STAFF_PASSWORD,
        },
        admin,
    )
    return person["id"], sign_in(system, login, STAFF_PASSWORD)


def a_class_with_a_mark(
    system: System, admin: dict[str, str], student: str, comment: str | None = None
) -> dict[str, Any]:
    """The deputy sets up the year and enrols the student; a teacher gives a mark."""
    _, deputy = staff(system, admin, "zavuch", "deputy_director")
    teacher_id, teacher = staff(system, admin, "uchitel", "subject_teacher")
    journal = "/api/journal/v1"
    year = post(
        system,
        f"{journal}/years",
        {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"},
        deputy,
    )
    post(
        system,
        f"{journal}/periods",
        {
            "year_id": year["year_id"],
            "kind": "quarter",
            "name": "1 четверть",
            "starts_on": "2025-09-01",
            "ends_on": "2025-10-24",
        },
        deputy,
    )
    subject = post(system, f"{journal}/subjects", {"name": "Литература"}, deputy)
    school_class = post(
        system, f"{journal}/classes", {"year_id": year["year_id"], "name": "6В", "grade": 6}, deputy
    )
    oral = post(
        system, f"{journal}/work-types", {"code": "oral", "name": "Устный", "weight": 1}, deputy
    )
    post(
        system,
        f"{journal}/assignments",
        {
            "teacher_id": teacher_id,
            "subject_id": subject["subject_id"],
            "class_id": school_class["class_id"],
        },
        deputy,
    )
    post(
        system,
        f"{journal}/classes/{school_class['class_id']}/enrolments",
        {"student_id": student, "enrolled_on": "2025-09-01"},
        deputy,
    )
    lesson = post(
        system,
        f"{journal}/lessons",
        {
            "class_id": school_class["class_id"],
            "subject_id": subject["subject_id"],
            "date": "2025-09-15",
            "slot": 3,
            "starts_at": "2025-09-15T10:00:00+03:00",
            "ends_at": "2025-09-15T10:45:00+03:00",
        },
        teacher,
    )
    post(
        system,
        f"{journal}/marks",
        {
            "lesson_id": lesson["lesson_id"],
            "student_id": student,
            "work_type_id": oral["work_type_id"],
            "value": "5",
            **({"comment": comment} if comment else {}),
        },
        teacher,
    )
    return {"deputy": deputy, "teacher": teacher, "lesson_id": lesson["lesson_id"]}


def the_diary_shows_a_mark(system: System, guardian: dict[str, str], student: str) -> bool:
    answer = requests.get(
        system.url(f"/api/diary/v1/students/{student}/week?date=2025-09-15"),
        headers=guardian,
        timeout=10,
    )
    if answer.status_code != 200:
        return False
    return any(lesson.get("marks") for day in answer.json()["days"] for lesson in day["lessons"])


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


def finished_erasure_of(system: System, admin: dict[str, str], student: str) -> Any:
    erasures = requests.get(
        system.url("/api/consent/v1/erasures?status=finished"), headers=admin, timeout=10
    ).json()
    return next((e for e in erasures if student in [s["subject_id"] for s in e["subjects"]]), None)
