"""A student leaves the school (issue 5 §7, R-PD-3, R-JRN-3): the journal announces it, consent
opens the erasure, and the journal, identity, the diary and the others destroy the
student's data and the guardian's link to them; the audit chain stays verifiable. The
guardian's own data was held for this child only (agreement §5.9: the purpose is
reached), so it goes too; a guardian with another child under consent keeps theirs
(consent's own tests).

Every service runs as its real web and worker processes behind the gateway.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

from schoolkit.testing import Mailbox

from .stories import (
    SERVICES,
    a_class_with_a_mark,
    a_family_with_consent,
    finished_erasure_of,
    post,
    sign_in,
    start,
    the_diary_shows_a_mark,
    wait_for,
)
from .system import System


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
    assert counts["identity"]["profile"] == 2  # the student and the mother, with no other child
    diary = requests.get(
        system.url(f"/api/diary/v1/students/{student}/week?date=2025-09-15"),
        headers=guardian,
        timeout=10,
    )
    assert diary.status_code == 401  # the mother was erased too: her sessions ended with her
    mother = requests.get(
        system.url(f"/api/identity/v1/people/{guardian_id}"), headers=admin, timeout=10
    )
    assert mother.status_code == 404
    chain = requests.get(
        system.url("/api/journal/v1/audit/verify"), headers=school["deputy"], timeout=10
    )
    assert chain.json()["intact"] is True
