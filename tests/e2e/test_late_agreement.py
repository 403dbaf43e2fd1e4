"""A family that signs the diary agreement in October sees September (issue 14, item 4).

The journal records September for a student whose guardian has no diary agreement yet:
the diary drops the marks, the attendance and the student's name on arrival (R-DRY-3).
When consent concludes the agreement, the diary asks (`diary.backfill.requested`), the
journal and identity answer (`journal.student.snapshot`, `identity.person.snapshot`), and
the guardian's week for a September date shows the lessons with their topics and
homework, the mark with what it was for, the absence and the child's name.

identity, journal, consent and the diary run as their real web and worker processes behind
the gateway, on PostgreSQL and RabbitMQ.
"""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from sqlalchemy import func, select

from diary.models import Mark
from schoolkit.db import Database
from schoolkit.tables import inbox
from schoolkit.testing import Bus

from .stories import ADMIN_PASSWORD, post, sign_in, staff, wait_for
from .system import System

SERVICES = ("identity", "journal", "consent", "diary")
JOURNAL = "/api/journal/v1"
GUARDIAN_PASSWORD = "Надёжный пароль 2025"


def start(start_system: Callable[..., System]) -> tuple[System, dict[str, str]]:
    system = start_system(*SERVICES)
    system.run_command(
        "identity", "identity-bootstrap-admin", BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD
    )
    return system, sign_in(system, "admin", ADMIN_PASSWORD)


def a_family_without_an_agreement(system: System, admin: dict[str, str]) -> tuple[str, str]:
    guardian = post(
        system,
        "/api/identity/v1/people",
        {
            "kind": "guardian",
            "last_name": "Смирнова",
            "first_name": "Ольга",
            "login": "olga",
            "password": GUARDIAN_PASSWORD,
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
    link = {"guardian_id": guardian["id"], "student_id": student["id"]}
    post(system, "/api/identity/v1/guardianships", link, admin)
    return guardian["id"], student["id"]


def september_in_the_journal(system: System, admin: dict[str, str], student: str) -> None:
    """Literature on Monday 15 September (topic, homework, a mark) and Tuesday (an absence)."""
    _, deputy = staff(system, admin, "zavuch", "deputy_director")
    teacher_id, teacher = staff(system, admin, "uchitel", "subject_teacher")
    year = post(
        system,
        f"{JOURNAL}/years",
        {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"},
        deputy,
    )
    quarter = {"year_id": year["year_id"], "kind": "quarter", "name": "1 четверть"}
    post(
        system,
        f"{JOURNAL}/periods",
        {**quarter, "starts_on": "2025-09-01", "ends_on": "2025-10-24"},
        deputy,
    )
    subject = post(system, f"{JOURNAL}/subjects", {"name": "Литература"}, deputy)
    school_class = post(
        system, f"{JOURNAL}/classes", {"year_id": year["year_id"], "name": "6В", "grade": 6}, deputy
    )
    essay = {"code": "essay", "name": "Сочинение", "weight": 2}
    essay_id = post(system, f"{JOURNAL}/work-types", essay, deputy)["work_type_id"]
    load = {
        "teacher_id": teacher_id,
        "subject_id": subject["subject_id"],
        "class_id": school_class["class_id"],
    }
    post(system, f"{JOURNAL}/assignments", load, deputy)
    enrolment = {"student_id": student, "enrolled_on": "2025-09-01"}
    post(system, f"{JOURNAL}/classes/{school_class['class_id']}/enrolments", enrolment, deputy)

    def lesson(day: str, topic: str) -> str:
        body = {
            "class_id": school_class["class_id"],
            "subject_id": subject["subject_id"],
            "date": day,
            "slot": 3,
            "starts_at": f"{day}T10:00:00+03:00",
            "ends_at": f"{day}T10:45:00+03:00",
            "topic": topic,
        }
        return str(post(system, f"{JOURNAL}/lessons", body, teacher)["lesson_id"])

    monday, tuesday = lesson("2025-09-15", "Былины"), lesson("2025-09-16", "Илья Муромец")
    homework = {"text": "Прочитать былину «Садко»", "due_on": "2025-09-16"}
    post(system, f"{JOURNAL}/lessons/{monday}/homework", homework, teacher)
    mark = {"lesson_id": monday, "student_id": student, "work_type_id": essay_id, "value": "5"}
    post(system, f"{JOURNAL}/marks", mark, teacher)
    absence = {"lesson_id": tuesday, "student_id": student, "status": "absent", "reason": "illness"}
    post(system, f"{JOURNAL}/attendance", absence, teacher)


def the_diary_dropped(system: System, event_ids: list[str]) -> bool:
    """Whether the diary's worker took these events in (and, with no agreement, kept nothing)."""
    database = Database(system.running["diary"].database_url)
    try:
        with database.sessions() as session:
            taken = session.scalar(
                select(func.count()).select_from(inbox).where(inbox.c.event_id.in_(event_ids))
            )
            assert session.scalar(select(func.count()).select_from(Mark)) == 0
            return taken == len(event_ids)
    finally:
        database.dispose()


def conclude_the_agreement_in_october(
    system: System, admin: dict[str, str], guardian: str, student: str
) -> None:
    family = {"guardian_id": guardian, "student_id": student}
    consent = {**family, "representation": "parent", "decision": "given", "signed_on": "2025-10-06"}
    post(system, "/api/consent/v1/consents", consent, admin)
    post(system, "/api/consent/v1/agreements", {**family, "applied_on": "2025-10-06"}, admin)


def september_week(system: System, guardian: dict[str, str], student: str) -> dict[str, Any] | None:
    answer = requests.get(
        system.url(f"/api/diary/v1/students/{student}/week?date=2025-09-15"),
        headers=guardian,
        timeout=10,
    )
    return answer.json() if answer.status_code == 200 else None


def test_a_family_that_signs_in_october_sees_september(
    start_system: Callable[..., System], bus: Bus
) -> None:
    system, admin = start(start_system)
    guardian_id, student = a_family_without_an_agreement(system, admin)
    journal_events = bus.listen("journal.mark.recorded", "journal.attendance.recorded")
    september_in_the_journal(system, admin, student)
    dropped = [
        journal_events.wait_for(lambda e, kind=kind: e["type"] == kind)["id"]
        for kind in ("journal.mark.recorded", "journal.attendance.recorded")
    ]
    wait_for(lambda: the_diary_dropped(system, dropped), "the diary never took the events in")

    guardian = sign_in(system, "olga", GUARDIAN_PASSWORD)
    assert september_week(system, guardian, student) is None  # no agreement, no diary
    conclude_the_agreement_in_october(system, admin, guardian_id, student)

    def filled() -> dict[str, Any] | None:
        week = september_week(system, guardian, student)
        if week is None or week["student_name"] is None:
            return None
        lessons = [lesson for day in week["days"] for lesson in day["lessons"]]
        marked = any(lesson["marks"] for lesson in lessons)
        return week if marked and any(lesson["attendance"] for lesson in lessons) else None

    week = wait_for(filled, "September never reached the diary", timeout=60)
    monday, tuesday = (day["lessons"] for day in week["days"][:2])
    assert week["student_name"] == "Смирнов Илья"
    assert [(lesson["topic"], lesson["subject"]) for lesson in monday + tuesday] == [
        ("Былины", "Литература"),
        ("Илья Муромец", "Литература"),
    ]
    assert [h["text"] for h in monday[0]["homework"]] == ["Прочитать былину «Садко»"]
    assert [(m["value"], m["work_type"], m["weight"]) for m in monday[0]["marks"]] == [
        ("5", "essay", 2.0)
    ]
    assert tuesday[0]["attendance"] == {"status": "absent", "reason": "illness"}
    assert monday[0]["attendance"] is None
