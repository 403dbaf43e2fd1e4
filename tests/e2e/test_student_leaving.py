"""A student leaves the school (issue 5 §7, R-PD-3, R-JRN-3): the journal announces it, consent
opens the erasure, and the journal, identity, the diary and the others destroy the
student's data and the guardian's link to them; the audit chain stays verifiable; the
guardian keeps their own account but no longer sees the child.

Every service runs as its real web and worker processes behind the gateway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from schoolkit.testing import Mailbox

from .system import System
from .test_erasure_across_services import SERVICES, a_family_with_consent, post, start

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


def a_class_with_a_mark(system: System, admin: dict[str, str], student: str) -> dict[str, Any]:
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
        },
        teacher,
    )
    return {"deputy": deputy}


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


def test_a_student_who_leaves_is_erased_in_the_journal_identity_and_the_diary(
    start_system: Callable[..., System], mailbox: Mailbox
) -> None:
    system, admin = start(start_system, mailbox)
    guardian_id, student, _ = a_family_with_consent(system, admin)
    school = a_class_with_a_mark(system, admin, student)
    guardian = sign_in(system, "olga", "Надёжный пароль 2025")
    wait_for(lambda: the_diary_shows_a_mark(system, guardian, student), "no mark in the diary")

    post(
        system,
        f"/api/journal/v1/students/{student}/leave",
        {"reason": "graduation", "on": "2026-05-31"},
        school["deputy"],
    )
    erasure = wait_for(
        lambda: finished_erasure_of(system, admin, student), "the erasure did not finish"
    )

    act = requests.get(
        system.url(f"/api/consent/v1/erasures/{erasure['id']}/act.json"), headers=admin, timeout=10
    ).json()
    counts = {row["participant"]: row["counts"] for row in act["systems"]}
    assert {row["participant"] for row in act["systems"]} == set(SERVICES)
    assert counts["journal"]["marks"] == 1
    assert counts["journal"]["enrolments"] == 1
    assert counts["identity"]["guardianships"] == 1
    assert counts["identity"]["profile"] == 1  # the student; the guardian keeps their own
    diary = requests.get(
        system.url(f"/api/diary/v1/students/{student}/week?date=2025-09-15"),
        headers=guardian,
        timeout=10,
    )
    assert diary.status_code == 404
    mother = requests.get(
        system.url(f"/api/identity/v1/people/{guardian_id}"), headers=admin, timeout=10
    )
    assert mother.status_code == 200
    chain = requests.get(
        system.url("/api/journal/v1/audit/verify"), headers=school["deputy"], timeout=10
    )
    assert chain.json()["intact"] is True
