"""Notify's part of an erasure, and the guardian's notice of destruction (R-PD-2, R-PD-3)."""

from __future__ import annotations

import json

from sqlalchemy import select

from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.models import Contact, Delivery, Guardianship, PendingNotice
from notify.sending import Sender
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.tables import outbox
from schoolkit.testing import Mailbox

from .events import contact_changed, erasure_finished, erasure_requested, guardian_linked, new_id


def apply(database: Database, config: DeliveryConfig, *events: Event) -> None:
    handlers = build_handlers(config)
    for event in events:
        with database.transaction() as session:
            handlers[event.type](session, event)


def published(database: Database, event_type: str) -> list[dict]:
    with database.transaction() as session:
        bodies = session.scalars(select(outbox.c.body).where(outbox.c.event_type == event_type))
        return [json.loads(body) for body in bodies]


def a_family(database: Database, config: DeliveryConfig) -> tuple[str, str]:
    guardian, student = new_id(), new_id()
    apply(
        database,
        config,
        contact_changed(guardian, "mother@example.org"),
        contact_changed(student, "pupil@example.org"),
        guardian_linked(guardian, student),
    )
    return guardian, student


def test_a_revoking_guardian_is_told_of_the_destruction_and_then_forgotten(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    guardian, student = a_family(notify_database, delivery_config)
    erasure_id = new_id()
    subjects = [(student, "student"), (guardian, "guardian")]

    apply(notify_database, delivery_config, erasure_requested(erasure_id, subjects))
    [confirmation] = published(notify_database, "notify.erasure.completed")
    assert confirmation["data"]["counts"]["contacts"] == 1  # the student's; the guardian's waits
    assert [kept["category"] for kept in confirmation["data"]["retained"]] == ["contacts"]

    apply(notify_database, delivery_config, erasure_finished(erasure_id, subjects))
    Sender(delivery_config).send_due(notify_database)

    [notice] = mailbox.to("mother@example.org")
    assert notice["Subject"] == "Уничтожение персональных данных"
    assert erasure_id in notice.get_content()
    with notify_database.transaction() as session:
        assert session.scalars(select(Contact)).all() == []
        assert session.scalars(select(Guardianship)).all() == []
        assert session.scalars(select(PendingNotice)).all() == []
        [delivery] = session.scalars(select(Delivery)).all()
        assert (delivery.status, delivery.address, delivery.body) == ("sent", None, None)


def test_when_a_student_leaves_the_guardian_who_stays_is_told_and_keeps_their_contact(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    guardian, student = a_family(notify_database, delivery_config)
    erasure_id = new_id()
    subjects = [(student, "student")]

    apply(
        notify_database,
        delivery_config,
        erasure_requested(erasure_id, subjects, "student_left"),
        erasure_finished(erasure_id, subjects, "student_left"),
    )
    Sender(delivery_config).send_due(notify_database)

    [notice] = mailbox.to("mother@example.org")
    assert "выбытие обучающегося" in notice.get_content()
    with notify_database.transaction() as session:
        assert [c.person_id for c in session.scalars(select(Contact))] == [guardian]


def test_an_ended_diary_agreement_is_told_and_takes_no_contact(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    guardian, student = a_family(notify_database, delivery_config)
    erasure_id = new_id()
    subjects = [(student, "student"), (guardian, "guardian")]
    ended = "agreement_terminated"
    diary_only = ["diary", "acknowledgements"]  # the policy's list for this trigger

    apply(
        notify_database,
        delivery_config,
        erasure_requested(erasure_id, subjects, ended, diary_only),
        erasure_finished(erasure_id, subjects, ended),
    )
    Sender(delivery_config).send_due(notify_database)

    assert len(mailbox.to("mother@example.org")) == 1
    with notify_database.transaction() as session:
        kept = {contact.person_id for contact in session.scalars(select(Contact))}
    # Consent to processing still stands: the school may still write to the family.
    assert kept == {guardian, student}


def test_an_english_speaking_guardian_gets_the_notice_in_english(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    guardian = new_id()
    apply(
        notify_database,
        delivery_config,
        contact_changed(guardian, "dad@example.org", language="en"),
    )
    erasure_id = new_id()
    subjects = [(guardian, "guardian")]
    apply(
        notify_database,
        delivery_config,
        erasure_requested(erasure_id, subjects),
        erasure_finished(erasure_id, subjects),
    )
    Sender(delivery_config).send_due(notify_database)
    [notice] = mailbox.to("dad@example.org")
    assert notice["Subject"] == "Personal data destroyed"


def test_a_guardian_without_any_contact_is_reported_so_the_school_writes_instead(
    notify_database: Database, delivery_config: DeliveryConfig
) -> None:
    guardian, erasure_id = new_id(), new_id()
    subjects = [(guardian, "guardian")]
    apply(
        notify_database,
        delivery_config,
        erasure_requested(erasure_id, subjects),
        erasure_finished(erasure_id, subjects),
    )
    [failure] = published(notify_database, "notify.delivery.failed")
    assert failure["data"]["reason"] == "no_contact"
    assert failure["data"]["recipient_id"] == guardian
    assert failure["data"]["about_event_type"] == "consent.erasure.finished"


def test_asked_twice_notify_confirms_twice_and_the_guardian_is_told_once(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    guardian, student = a_family(notify_database, delivery_config)
    erasure_id = new_id()
    subjects = [(student, "student"), (guardian, "guardian")]
    request = erasure_requested(erasure_id, subjects)
    again = erasure_requested(erasure_id, subjects)
    apply(notify_database, delivery_config, request, again, erasure_finished(erasure_id, subjects))
    Sender(delivery_config).send_due(notify_database)
    assert len(published(notify_database, "notify.erasure.completed")) == 2
    assert len(mailbox.to("mother@example.org")) == 1
