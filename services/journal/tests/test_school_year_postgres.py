"""The year's set-up on PostgreSQL, migrated by its Alembic revisions as in production."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, inspect, select

from journal.app import create_app
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.tables import outbox
from schoolkit.testing import TokenIssuer

from .conftest import API, SCHOOL, new_id


def test_on_postgres_a_year_with_a_quarter_a_class_and_its_load_is_stored_and_announced(
    postgres_url: str, token_issuer: TokenIssuer
) -> None:
    upgrade("journal", postgres_url)
    upgrade("journal", postgres_url)  # a restart migrates again, harmlessly
    settings = Settings.from_env(
        "journal", database_url=postgres_url, **token_issuer.settings_overrides()
    )
    client = create_app(settings).test_client()
    deputy = token_issuer.bearer(sub=new_id(), school_id=SCHOOL, roles=["deputy_director"])

    year = client.post(
        f"{API}/years",
        json={"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"},
        headers=deputy,
    ).json
    quarter = {
        "year_id": year["year_id"],
        "kind": "quarter",
        "name": "1 четверть",
        "starts_on": "2025-09-01",
        "ends_on": "2025-10-24",
    }
    assert client.post(f"{API}/periods", json=quarter, headers=deputy).status_code == 201
    subject = client.post(f"{API}/subjects", json={"name": "Русский язык"}, headers=deputy).json
    school_class = client.post(
        f"{API}/classes",
        json={"year_id": year["year_id"], "name": "1А", "grade": 1},
        headers=deputy,
    ).json
    load = {
        "teacher_id": new_id(),
        "subject_id": subject["subject_id"],
        "class_id": school_class["class_id"],
    }
    assert client.post(f"{API}/assignments", json=load, headers=deputy).status_code == 201

    engine = create_engine(postgres_url)
    assert {
        "years",
        "periods",
        "holidays",
        "subjects",
        "classes",
        "assignments",
        "grading_scales",
        "work_types",
        "lessons",
        "marks",
        "finalizations",
        "final_marks",
        "attendance",
        "enrolments",
        "enrolment_moves",
        "correction_requests",
        "homework",
        "audit_entries",
        "audit_values",
    } <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        types = [
            json.loads(body)["type"]
            for body in connection.scalars(select(outbox.c.body).order_by(outbox.c.id))
        ]
    engine.dispose()
    assert types == [
        "journal.calendar.changed",
        "journal.calendar.changed",
        "journal.subject.changed",
        "journal.class.changed",
    ]
