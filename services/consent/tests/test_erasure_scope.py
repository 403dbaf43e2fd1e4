"""Consent's own part of an erasure stays in the erasure's school (DESIGN §4 6a)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from consent.handlers import HANDLERS
from consent.models import Consent
from schoolkit.db import Database
from schoolkit.events import Event

from .conftest import API, new_id
from .families import World

OTHER_SCHOOL = "school-255"


def erase(database_url: str, school_id: str, guardian: str, student: str) -> str:
    """consent.erasure.requested through the consent worker's own handler."""
    erasure_id = new_id()
    data = {
        "erasure_id": erasure_id,
        "reason": "consent_revoked",
        "subjects": [
            {"subject_id": student, "kind": "student"},
            {"subject_id": guardian, "kind": "guardian"},
        ],
        "categories": ["consents", "erasure_act"],
        "retain": [],
        "deadline": "2030-01-10",
        "requested_at": "2030-01-07T10:00:00Z",
        "basis": {"kind": "consent", "id": new_id()},
        "attempt": 1,
    }
    database = Database(database_url)
    with database.transaction() as session:
        HANDLERS["consent.erasure.requested"](
            session, Event("consent.erasure.requested", data, school_id, subject=student)
        )
    database.dispose()
    return erasure_id


def consents_of(database_url: str, student: str) -> list[str]:
    database = Database(database_url)
    with database.sessions() as session:
        found = session.scalars(select(Consent.school_id).where(Consent.student_id == student))
        schools = list(found)
    database.dispose()
    return schools


def test_another_schools_erasure_leaves_our_consents(
    client: FlaskClient,
    as_role: Callable[..., dict[str, str]],
    database_url: str,
    published: Callable[[str], list[dict[str, Any]]],
    world: World,
) -> None:
    family = world.a_family("school-254")
    guardian, student = family.guardian_id, family.student_id
    form = {
        "guardian_id": guardian,
        "student_id": student,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2025-09-01",
    }
    answer = client.post(f"{API}/consents", json=form, headers=as_role("deputy_director"))
    assert answer.status_code == 201, answer.json

    foreign = erase(database_url, OTHER_SCHOOL, guardian, student)
    assert consents_of(database_url, student) == ["school-254"]
    ours = erase(database_url, "school-254", guardian, student)
    assert consents_of(database_url, student) == []

    counts = {
        body["data"]["erasure_id"]: body["data"]["counts"]
        for body in published("consent.erasure.completed")
    }
    assert counts[foreign]["consents"] == 0
    assert counts[ours]["consents"] == 1
