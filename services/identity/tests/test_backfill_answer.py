"""Identity answers the diary's backfill request with the names it had to drop, and no others."""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from identity.handlers import HANDLERS
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import default_contracts

from .conftest import SCHOOL, Provider


def backfill_requested(student_id: str, guardian_id: str, school: str = SCHOOL) -> Event:
    data = {
        "student_id": student_id,
        "guardian_id": guardian_id,
        "agreement_id": str(uuid.uuid4()),
        "person_ids": [student_id, guardian_id],
        "requested_at": iso_utc(datetime.now(UTC)),
    }
    event = Event("diary.backfill.requested", data, school, subject=student_id)
    default_contracts().validate(event.to_dict())
    return event


def handle(provider: Provider, event: Event) -> str | None:
    with provider.database.transaction() as session:
        return HANDLERS[event.type](session, event)


def a_family(
    provider: Provider, admin: dict[str, str], make_person: Callable[..., dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    student = make_person(
        "student", last_name="Кузнецова", first_name="Дарья", birth_date="2014-05-06"
    )
    guardian = make_person("guardian", last_name="Кузнецова", first_name="Елена")
    link = {"guardian_id": guardian["id"], "student_id": student["id"]}
    answer = requests.post(provider.api("/v1/guardianships"), json=link, headers=admin, timeout=10)
    assert answer.status_code == 201, answer.text
    return student, guardian


def test_the_student_and_their_linked_guardian_get_their_names_sent_to_the_diary(
    provider: Provider, admin: dict[str, str], make_person: Callable[..., dict[str, Any]]
) -> None:
    student, guardian = a_family(provider, admin, make_person)
    request = backfill_requested(student["id"], guardian["id"])
    assert handle(provider, request) is None

    sent = {e["subject"]: e for e in provider.published("identity.person.snapshot")}
    assert set(sent) == {student["id"], guardian["id"]}
    assert sent[student["id"]]["data"]["first_name"] == "Дарья"
    assert sent[student["id"]]["data"]["birth_date"] == "2014-05-06"
    assert sent[guardian["id"]]["data"]["kind"] == "guardian"
    assert all(e["data"]["request_id"] == request.id for e in sent.values())
    # Minimisation: no roles, no contacts, in an event only the diary receives.
    assert not {"roles", "email", "phone"} & set(sent[guardian["id"]]["data"])


def test_an_unlinked_guardian_another_school_or_an_unknown_id_gets_nothing(
    provider: Provider, admin: dict[str, str], make_person: Callable[..., dict[str, Any]]
) -> None:
    student, _ = a_family(provider, admin, make_person)
    stranger = make_person("guardian", last_name="Чужая", first_name="Анна")
    assert handle(provider, backfill_requested(student["id"], stranger["id"])) is None
    assert [e["subject"] for e in provider.published("identity.person.snapshot")] == [student["id"]]

    elsewhere = backfill_requested(student["id"], stranger["id"], school="school-2")
    unknown = backfill_requested(str(uuid.uuid4()), str(uuid.uuid4()))
    assert handle(provider, elsewhere) == "ignored"
    assert handle(provider, unknown) == "ignored"
    assert len(provider.published("identity.person.snapshot")) == 1
