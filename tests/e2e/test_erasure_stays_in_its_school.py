"""An erasure request can destroy nothing outside its own school, and never a staff
member (issue 14 §0, DESIGN §4 6a). Requests that the consent service would not send
are put on the real bus as a forged or mistaken one would arrive; every service's real
worker answers them, and school 1's family, its marks and its deputy director are
still there afterwards, not buried anywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import requests
from sqlalchemy import select

from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.tables import EVERY_SCHOOL, tombstones
from schoolkit.testing import Bus, Mailbox

from .stories import (
    SERVICES,
    a_class_with_a_mark,
    a_family_with_consent,
    sign_in,
    staff,
    start,
    the_diary_shows_a_mark,
    wait_for,
)
from .system import System

SCHOOL = "school-1"  # the bootstrap administrator's
CATEGORIES = [
    "account",
    "sessions",
    "contacts",
    "guardianships",
    "invitations",
    "profile",
    "marks",
    "attendance",
    "enrolments",
    "final_marks",
    "audit_values",
    "diary",
    "acknowledgements",
    "deliveries",
    "backups",
    "consents",
    "erasure_act",
]


def test_another_schools_request_and_a_request_naming_staff_erase_nothing(
    start_system: Callable[..., System], mailbox: Mailbox, bus: Bus
) -> None:
    system, admin = start(start_system, mailbox)
    guardian, student, _consent = a_family_with_consent(system, admin)
    a_class_with_a_mark(system, admin, student)
    deputy_id, _ = staff(system, admin, "zamdir", "deputy_director")
    olga = sign_in(system, "olga", "Надёжный пароль 2025")
    wait_for(lambda: the_diary_shows_a_mark(system, olga, student), "no mark in the diary")

    foreign = erase_over_the_bus(bus, "school-2", [(student, "student"), (guardian, "guardian")])
    as_guardian = erase_over_the_bus(bus, SCHOOL, [(deputy_id, "guardian")])
    as_staff = erase_over_the_bus(bus, SCHOOL, [(deputy_id, "staff")])

    assert foreign["identity"]["refused_subjects"] == 2
    assert foreign["identity"].get("account", 0) == 0
    assert as_guardian["identity"]["refused_subjects"] == 1
    for service in SERVICES:
        assert as_staff[service]["refused_subjects"] == 1, service
        destroyed = {k: v for k, v in foreign[service].items() if k != "refused_subjects"}
        assert set(destroyed.values()) <= {0}, (service, destroyed)
    # The family and the deputy director use the system as before.
    assert the_diary_shows_a_mark(system, sign_in(system, "olga", "Надёжный пароль 2025"), student)
    zamdir = sign_in(system, "zamdir", "Учительский пароль 2025")
    verify = requests.get(system.url("/api/journal/v1/audit/verify"), headers=zamdir, timeout=10)
    assert verify.status_code == 200
    assert (
        requests.get(
            system.url(f"/api/identity/v1/people/{guardian}"), headers=admin, timeout=10
        ).status_code
        == 200
    )
    for service in SERVICES:
        for person in (student, guardian):
            assert not buried_for_school_1(system, service, person), (service, person)
    # Only identity knows that she is staff whatever kind a request says: it keeps her
    # account and does not bury her. The others cannot tell, and bury an id named as a
    # guardian (consent is to send no such request: its own validation of subjects).
    assert not buried_for_school_1(system, "identity", deputy_id)


def erase_over_the_bus(
    bus: Bus, school_id: str, subjects: list[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """Every participant's counts for one request put on the bus."""
    erasure_id = str(uuid.uuid4())
    data = {
        "erasure_id": erasure_id,
        "subjects": [{"subject_id": sid, "kind": kind} for sid, kind in subjects],
        "reason": "consent_revoked",
        "categories": CATEGORIES,
        "retain": [],
        "deadline": "2026-12-31T23:59:59.000Z",
        "attempt": 1,
    }
    listeners = {service: bus.listen(f"{service}.erasure.completed") for service in SERVICES}
    try:
        bus.publish(Event("consent.erasure.requested", data, school_id, subject=subjects[0][0]))
        return {
            service: listener.wait_for(lambda e: e["data"]["erasure_id"] == erasure_id)["data"][
                "counts"
            ]
            for service, listener in listeners.items()
        }
    finally:
        for listener in listeners.values():
            listener.close()


def buried_for_school_1(system: System, service: str, subject_id: str) -> bool:
    database = Database(system.running[service].database_url)
    try:
        with database.transaction() as session:
            found = session.execute(
                select(tombstones.c.subject_id).where(
                    tombstones.c.subject_id == subject_id,
                    tombstones.c.school_id.in_([SCHOOL, EVERY_SCHOOL]),
                )
            )
            return found.first() is not None
    finally:
        database.dispose()
