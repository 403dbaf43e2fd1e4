"""The heart of the product, end to end (issue 5 §7, R-PD-2…4): a guardian revokes consent;
identity, the diary, notify, the archive and consent itself destroy the family's data,
the act lists each service's counts, the guardian is told, and nothing comes back.

Every service runs as its real web and worker processes behind the gateway, on its own
PostgreSQL database and one private namespace of the real RabbitMQ.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from sqlalchemy import select, text

from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.tables import tombstones
from schoolkit.testing import Bus, Mailbox

from .system import System

SERVICES = ("identity", "journal", "consent", "diary", "notify", "archive")
ADMIN_PASSWORD = "Пароль администратора 2025"


def start(start_system: Callable[..., System], mailbox: Mailbox) -> tuple[System, dict[str, str]]:
    system = start_system(
        *SERVICES,
        extra_environment={
            "NOTIFY_SMTP_PORT": str(mailbox.port),
            "ERASURE_PARTICIPANTS": ",".join(SERVICES),
            "ERASURE_SWEEP_SECONDS": "1",
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
    assert answer.status_code in (200, 201), (path, answer.text)
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
    consent = post(
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


def test_a_revoked_consent_is_erased_everywhere_proven_and_told_within_seconds(
    start_system: Callable[..., System], mailbox: Mailbox, bus: Bus
) -> None:
    system, admin = start(start_system, mailbox)
    guardian, student, consent = a_family_with_consent(system, admin)
    time.sleep(1.0)  # the family's events reach every service long before any revocation

    revoked_at = time.monotonic()
    withdrawal = post(
        system,
        f"/api/consent/v1/consents/{consent}/withdrawal",
        {"received_at": "2026-11-27T18:30:00+00:00"},
        admin,
    )
    status = wait_until_finished(system, withdrawal["erasure_id"], admin)
    took = time.monotonic() - revoked_at

    assert took < 20
    assert {p["participant"] for p in status["participants"]} == set(SERVICES)
    act = requests.get(
        system.url(f"/api/consent/v1/erasures/{withdrawal['erasure_id']}/act.json"),
        headers=admin,
        timeout=10,
    ).json()
    counts = {system_row["participant"]: system_row["counts"] for system_row in act["systems"]}
    assert counts["identity"]["profile"] == 2  # the guardian and the child
    assert counts["identity"]["account"] == 1
    assert counts["identity"]["guardianships"] == 1
    assert counts["consent"]["consents"] == 1
    assert counts["consent"]["agreements"] == 1
    assert counts["notify"]["contacts"] == 1  # the child's; the guardian's waits for the notice

    people = requests.get(
        system.url(f"/api/identity/v1/people/{guardian}"), headers=admin, timeout=10
    )
    assert people.status_code == 404
    form = {
        "grant_type": "password",
        "username": "olga",
        "password": "Надёжный пароль 2025",
        "client_id": "web",
    }
    assert (
        requests.post(system.url("/api/identity/oauth/token"), data=form, timeout=10).status_code
        == 400
    )

    deadline = time.monotonic() + 20
    while not mailbox.to("olga@example.org"):
        assert time.monotonic() < deadline, "the guardian was not told"
        time.sleep(0.2)
    assert withdrawal["erasure_id"] in mailbox.to("olga@example.org")[0].get_content()

    for service in SERVICES:
        assert buried_in(system, service, student), f"{service} would take the child back"

    bus.publish(late_contact_of(guardian))  # a late or replayed event about the guardian
    time.sleep(1.5)
    assert not notify_holds_contact_of(system, guardian)


def test_a_participant_down_during_the_request_is_asked_again_and_the_erasure_completes(
    start_system: Callable[..., System], mailbox: Mailbox
) -> None:
    system, admin = start(start_system, mailbox)
    system.running["consent"].environment["ERASURE_ASK_AGAIN_SECONDS"] = "2"
    system.stop_worker("consent")
    system.start_worker("consent")
    system.wait_for_worker("consent")
    _guardian, _student, consent = a_family_with_consent(system, admin)
    time.sleep(1.0)

    system.stop_worker("archive")
    withdrawal = post(
        system,
        f"/api/consent/v1/consents/{consent}/withdrawal",
        {"received_at": "2026-11-27T10:00:00+00:00"},
        admin,
    )
    status = wait_until_only_archive_is_missing_and_asked_again(
        system, withdrawal["erasure_id"], admin
    )
    assert status["status"] == "open"

    system.start_worker("archive")
    finished = wait_until_finished(system, withdrawal["erasure_id"], admin)
    assert finished["attempt"] >= 2


def wait_until_only_archive_is_missing_and_asked_again(
    system: System, erasure_id: str, admin: dict[str, str], timeout: float = 60.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = requests.get(
            system.url(f"/api/consent/v1/erasures/{erasure_id}"), headers=admin, timeout=10
        ).json()
        waiting = [p["participant"] for p in status["participants"] if p["state"] == "waiting"]
        if waiting == ["archive"] and status["attempt"] >= 2:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def late_contact_of(guardian: str) -> Event:
    data = {
        "person_id": guardian,
        "email": "olga@example.org",
        "preferred_language": "ru",
        "entity_version": 9,
    }
    return Event("identity.contact.changed", data, "school-1", subject=guardian)


def notify_holds_contact_of(system: System, person_id: str) -> bool:
    database = Database(system.running["notify"].database_url)
    try:
        with database.transaction() as session:
            found = session.execute(
                text("SELECT 1 FROM contacts WHERE person_id = :id"), {"id": person_id}
            )
            return found.first() is not None
    finally:
        database.dispose()
