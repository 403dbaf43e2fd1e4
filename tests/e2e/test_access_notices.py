"""A blocked user is told so by e-mail (R-IDN-4, R-NTF-3), through the running system."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import requests

from schoolkit.events import Event
from schoolkit.testing import Bus, Mailbox, TokenIssuer

from .system import System

SCHOOL = "school-254"


def contact(person_id: str, address: str) -> Event:
    data = {
        "person_id": person_id,
        "email": address,
        "preferred_language": "ru",
        "entity_version": 1,
    }
    return Event("identity.contact.changed", data, SCHOOL, subject=person_id)


def blocked(person_id: str) -> Event:
    data = {
        "user_id": person_id,
        "person_id": person_id,
        "reason": "suspected_unlawful_use",
        "blocked_at": "2026-11-28T10:15:00.000Z",
        "by": str(uuid.uuid4()),
        "notice": True,
        "entity_version": 2,
    }
    return Event("identity.account.blocked", data, SCHOOL, subject=person_id)


def test_a_blocked_teacher_gets_a_letter_and_the_school_sees_it_was_sent(
    start_system: Callable[..., System], bus: Bus, mailbox: Mailbox, token_issuer: TokenIssuer
) -> None:
    system = start_system(
        "notify",
        jwks_url=token_issuer.jwks_url,
        token_issuer=token_issuer.issuer,
        extra_environment={"NOTIFY_SMTP_PORT": str(mailbox.port)},
    )
    teacher = str(uuid.uuid4())
    bus.publish(contact(teacher, "teacher@example.org"))
    time.sleep(0.5)  # identity sends the contact long before any block
    bus.publish(blocked(teacher))

    deadline = time.monotonic() + 20
    while not mailbox.to("teacher@example.org"):
        assert time.monotonic() < deadline, "no letter arrived"
        time.sleep(0.1)
    [letter] = mailbox.to("teacher@example.org")
    assert letter["Subject"] == "Доступ заблокирован"

    admin = token_issuer.bearer(sub=str(uuid.uuid4()), school_id=SCHOOL, roles=["administrator"])
    answer = requests.get(
        system.url(f"/api/notify/v1/deliveries?recipient_id={teacher}"), headers=admin, timeout=10
    )
    assert answer.status_code == 200
    assert [d["status"] for d in answer.json()["items"]] == ["sent"]
