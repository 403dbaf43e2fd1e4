"""identity's part of an erasure: the security audit forgets the person's addresses."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from identity import erasure
from identity.models import AuditEntry, Person
from schoolkit.db import Database
from schoolkit.erasure import ErasureRequest, Subject
from schoolkit.migrate import upgrade

SCHOOL = "school-254"
NAMES = {"last_name": "Иванова", "first_name": "Мария"}


def request_for(person_id: str, categories: set[str]) -> ErasureRequest:
    return ErasureRequest(
        erasure_id=str(uuid.uuid4()),
        school_id=SCHOOL,
        subjects=(Subject(person_id, "guardian"),),
        reason="consent_revoked",
        categories=frozenset(categories),
        retain=(),
        attempt=1,
    )


def test_an_erased_account_leaves_audit_entries_without_addresses_or_details(
    sqlite_url: str,
) -> None:
    upgrade("identity", sqlite_url)
    database = Database(sqlite_url)
    guardian, admin, neighbour = (str(uuid.uuid4()) for _ in range(3))
    with database.transaction() as session:
        # The guardian is one of the school's people: only they are ever erased here.
        session.add(Person(id=guardian, school_id=SCHOOL, kind="guardian", **NAMES))
        session.add_all(
            [
                AuditEntry(school_id=SCHOOL, actor_id=guardian, action="login", ip="203.0.113.7"),
                AuditEntry(
                    school_id=SCHOOL,
                    actor_id=admin,
                    action="blocked",
                    target_id=guardian,
                    ip="198.51.100.1",
                    details={"reason": "жалоба соседа по парте"},
                ),
                AuditEntry(school_id=SCHOOL, actor_id=neighbour, action="login", ip="192.0.2.9"),
            ]
        )
    with database.transaction() as session:
        outcome = erasure.erase(session, request_for(guardian, {"account", "profile"}))
    with database.sessions() as session:
        entries = {
            (entry.actor_id, entry.action): (entry.ip, entry.details)
            for entry in session.scalars(select(AuditEntry))
        }
    database.dispose()

    assert outcome.counts["audit_addresses"] == 2
    assert entries == {
        (guardian, "login"): (None, {}),  # the entries stay: what, when, opaque ids
        (admin, "blocked"): (None, {}),
        (neighbour, "login"): ("192.0.2.9", {}),  # someone else's: untouched
    }


def test_a_request_that_leaves_the_account_leaves_the_audit_alone(sqlite_url: str) -> None:
    upgrade("identity", sqlite_url)
    database = Database(sqlite_url)
    guardian = str(uuid.uuid4())
    with database.transaction() as session:
        session.add(
            AuditEntry(school_id=SCHOOL, actor_id=guardian, action="login", ip="203.0.113.7")
        )
    with database.transaction() as session:
        erasure.erase(session, request_for(guardian, {"diary", "acknowledgements"}))
    with database.sessions() as session:
        assert session.scalars(select(AuditEntry.ip)).all() == ["203.0.113.7"]
    database.dispose()
