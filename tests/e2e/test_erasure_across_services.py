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
from sqlalchemy import text

from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.testing import Bus, Mailbox

from .stories import (
    SERVICES,
    a_class_with_a_mark,
    a_family_with_consent,
    buried_in,
    post,
    sign_in,
    start,
    the_diary_shows_a_mark,
    wait_for,
    wait_until_finished,
)
from .system import System


def test_a_revoked_consent_is_erased_everywhere_proven_and_told_within_seconds(
    start_system: Callable[..., System], mailbox: Mailbox, bus: Bus
) -> None:
    system, admin = start(start_system, mailbox)
    guardian, student, consent = a_family_with_consent(system, admin)
    school = a_class_with_a_mark(system, admin, student)
    olga = sign_in(system, "olga", "Надёжный пароль 2025")
    wait_for(lambda: the_diary_shows_a_mark(system, olga, student), "no mark in the diary")

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
    # Her still-valid access token ends with her data, everywhere (DESIGN §4 6a), and
    # writes nothing: notify's preferences were once created anew for an erased guardian.
    refused = {path: answers_with(system, "GET", path, olga) for path in olga_paths(guardian)}
    assert set(refused.values()) == {401}, refused
    preferences = f"/api/notify/v1/preferences/{guardian}"
    assert answers_with(system, "PUT", preferences, olga, {"email": True, "sms": True}) == 401
    assert not notify_holds_preferences_of(system, guardian)
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
    assert counts["journal"]["marks"] == 1  # the policy erases marks on revocation
    assert counts["journal"]["enrolments"] == 1
    assert counts["diary"]["diary"] >= 1
    chain = requests.get(
        system.url("/api/journal/v1/audit/verify"), headers=school["deputy"], timeout=10
    )
    assert chain.json()["intact"] is True
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


def olga_paths(guardian: str) -> list[str]:
    """One path of every service that her token opened before the erasure (or that a
    token of hers reaches before any role check)."""
    return [
        "/api/identity/v1/me",
        "/api/journal/v1/years",
        "/api/diary/v1/calendar",
        "/api/consent/v1/templates",
        f"/api/notify/v1/preferences/{guardian}",
        "/api/archive/v1/backups",
    ]


def answers_with(
    system: System,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> int:
    """The status, once the deny-list has had its moment: the revocation reaches each
    service on the bus while the erasure is being confirmed, so it is there by now;
    a deny-list snapshot may still be a refresh period (0.25 s) old."""
    deadline = time.monotonic() + 1.0
    while True:
        answer = requests.request(method, system.url(path), json=body, headers=headers, timeout=10)
        if answer.status_code == 401 or time.monotonic() > deadline:
            return answer.status_code
        time.sleep(0.05)


def notify_holds_preferences_of(system: System, person_id: str) -> bool:
    database = Database(system.running["notify"].database_url)
    try:
        with database.transaction() as session:
            found = session.execute(
                text("SELECT 1 FROM preferences WHERE person_id = :id"), {"id": person_id}
            )
            return found.first() is not None
    finally:
        database.dispose()
