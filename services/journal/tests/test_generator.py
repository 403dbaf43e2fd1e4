"""The generated school (journal.generator): realistic in shape, the same for the same
seed, and readable by the journal's own pages and reports at once."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from journal.app import create_app
from journal.generator import QUARTERS, GeneratedSchool, Size, generate
from journal.models import Attendance, Lesson, Mark
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.testing import TokenIssuer, create_database, drop_database

from .conftest import API, new_id

STUDENTS = 50  # two classes of 25: a full year in a few seconds


@pytest.fixture
def generated(postgres_url: str) -> GeneratedSchool:
    upgrade("journal", postgres_url)
    return generate(postgres_url, Size.for_students(STUDENTS), seed=11)


@pytest.fixture
def client(postgres_url: str, token_issuer: TokenIssuer) -> FlaskClient:
    settings = Settings.from_env(
        "journal", database_url=postgres_url, **token_issuer.settings_overrides()
    )
    return create_app(settings).test_client()


def _count(url: str, model: type) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        total = int(connection.scalar(select(func.count()).select_from(model)) or 0)
    engine.dispose()
    return total


def test_a_year_has_six_lessons_a_study_day_and_about_a_mark_per_student_and_lesson(
    generated: GeneratedSchool, postgres_url: str
) -> None:
    lessons = _count(postgres_url, Lesson)
    student_lessons = _count(postgres_url, Attendance)
    marks = _count(postgres_url, Mark)

    assert len(generated.class_ids) == 2
    assert sum(len(s) for s in generated.students_by_class.values()) == STUDENTS
    assert lessons % (6 * len(generated.class_ids)) == 0
    assert 160 <= lessons / (6 * len(generated.class_ids)) <= 175  # study days of a year
    assert student_lessons == lessons * 25  # everyone's attendance at every lesson
    assert 0.85 <= marks / student_lessons <= 1.05
    assert all(" " in name for name in generated.names.values())  # Faker's full names


def test_the_same_seed_builds_the_same_school(generated: GeneratedSchool) -> None:
    other_url = create_database("generator")
    try:
        upgrade("journal", other_url)
        again = generate(other_url, Size.for_students(STUDENTS), seed=11)
    finally:
        drop_database(other_url)

    assert again.school_id == generated.school_id
    assert again.class_ids == generated.class_ids
    assert again.names == generated.names
    assert again.counts == generated.counts


def test_the_generated_year_reads_in_the_grid_and_the_summary_sheet(
    generated: GeneratedSchool, client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    deputy = token_issuer.bearer(
        sub=new_id(), school_id=generated.school_id, roles=["deputy_director"]
    )
    class_id = generated.class_ids[0]
    maths = generated.subject_ids["Математика"]
    first_quarter = generated.period_ids[QUARTERS[0][0]]

    grid = client.get(
        f"{API}/classes/{class_id}/grid",
        query_string={"subject_id": maths, "period_id": first_quarter},
        headers=deputy,
    ).json
    sheet = client.get(f"{API}/reports/classes/{class_id}/final-marks-sheet", headers=deputy).json

    assert grid["locked"] is True and len(grid["lessons"]) >= 25  # 4 h a week, 8 weeks
    assert {mark["value"] for mark in grid["marks"]} <= {"2", "3", "4", "5"}
    finals = [final for student in sheet["students"] for final in student["finals"]]
    quarters = {final["period_id"] for final in finals}
    assert quarters == {generated.period_ids[name] for name, _, _ in QUARTERS[:3]}
    assert len(finals) == 25 * 15 * 3
