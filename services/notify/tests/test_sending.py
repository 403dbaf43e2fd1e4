"""Sending: retried with back-off, given up after the last try, scrubbed either way."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.models import Delivery
from notify.sending import Sender
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.tables import outbox
from schoolkit.testing import Mailbox, free_port

from .events import contact_changed, event, new_id


def blocked(person_id: str, notice: bool = True) -> Event:
    return event(
        "identity.account.blocked",
        person_id,
        user_id=person_id,
        person_id=person_id,
        reason="compromise_reported",
        notice=notice,
    )


def queue_block_notice(database: Database, config: DeliveryConfig, address: str) -> str:
    person = new_id()
    handlers = build_handlers(config)
    for incoming in (contact_changed(person, address), blocked(person)):
        with database.transaction() as session:
            handlers[incoming.type](session, incoming)
    return person


def deliveries(database: Database) -> list[Delivery]:
    with database.transaction() as session:
        return list(session.scalars(select(Delivery)))


def failures(database: Database) -> list[dict]:
    with database.transaction() as session:
        query = select(outbox.c.body).where(outbox.c.event_type == "notify.delivery.failed")
        return [json.loads(body) for body in session.scalars(query)]


def test_a_blocked_user_is_told_by_mail_why(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    queue_block_notice(notify_database, delivery_config, "teacher@example.org")
    assert Sender(delivery_config).send_due(notify_database) == 1
    [message] = mailbox.to("teacher@example.org")
    assert message["Subject"] == "Доступ заблокирован"
    assert "компрометации" in message.get_content()


def test_a_block_without_a_notice_sends_nothing(
    notify_database: Database, delivery_config: DeliveryConfig
) -> None:
    person = new_id()
    handlers = build_handlers(delivery_config)
    with notify_database.transaction() as session:
        handlers["identity.account.blocked"](session, blocked(person, notice=False))
    assert deliveries(notify_database) == []


def test_while_the_mail_server_is_down_notify_retries_and_then_gives_up_saying_so(
    notify_database: Database, delivery_config: DeliveryConfig
) -> None:
    down = replace(delivery_config, smtp_port=free_port())
    queue_block_notice(notify_database, down, "teacher@example.org")
    sender = Sender(down)
    finished = [sender.send_due(notify_database) for _ in range(down.max_attempts)]
    assert finished == [0, 0, 1]
    [delivery] = deliveries(notify_database)
    assert (delivery.status, delivery.attempts, delivery.address) == ("failed", 3, None)
    [failure] = failures(notify_database)
    assert failure["data"]["reason"] == "provider_error"
    assert failure["data"]["attempts"] == 3


def test_a_retry_waits_for_its_back_off(
    notify_database: Database, delivery_config: DeliveryConfig
) -> None:
    down = replace(delivery_config, smtp_port=free_port(), first_retry_seconds=60.0)
    queue_block_notice(notify_database, down, "teacher@example.org")
    sender = Sender(down)
    sender.send_due(notify_database)
    sender.send_due(notify_database)  # too early: the delivery waits a minute
    [delivery] = deliveries(notify_database)
    assert delivery.attempts == 1
    assert delivery.status == "pending"


def test_an_address_the_server_refuses_is_given_up_at_once(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    mailbox.refuse.add("gone@example.org")
    queue_block_notice(notify_database, delivery_config, "gone@example.org")
    assert Sender(delivery_config).send_due(notify_database) == 1
    [failure] = failures(notify_database)
    assert failure["data"]["reason"] == "invalid_address"
    assert failure["data"]["attempts"] == 1


def test_an_older_contact_update_arriving_late_does_not_overwrite_the_newer(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    person = new_id()
    handlers = build_handlers(delivery_config)
    for incoming in (
        contact_changed(person, "new@example.org", version=3),
        contact_changed(person, "old@example.org", version=2),
        blocked(person),
    ):
        with notify_database.transaction() as session:
            handlers[incoming.type](session, incoming)
    Sender(delivery_config).send_due(notify_database)
    assert len(mailbox.to("new@example.org")) == 1
    assert mailbox.to("old@example.org") == []


class SmsGateway:
    """An HTTP SMS gateway on loopback that records what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/send"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
        self.sent.append(json.loads(Request(environ).get_data()))
        return Response('{"accepted": true}', content_type="application/json")(
            environ, start_response
        )

    def close(self) -> None:
        self._server.shutdown()


def test_a_guardian_with_a_phone_is_also_told_by_sms(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    gateway = SmsGateway()
    try:
        config = replace(delivery_config, sms_url=gateway.url)
        person = new_id()
        handlers = build_handlers(config)
        for incoming in (
            contact_changed(person, "mum@example.org", "+79160000001"),
            blocked(person),
        ):
            with notify_database.transaction() as session:
                handlers[incoming.type](session, incoming)
        assert Sender(config).send_due(notify_database) == 2
    finally:
        gateway.close()
    [sms] = gateway.sent
    assert sms["to"] == "+79160000001"
    assert sms["text"].startswith("Доступ заблокирован")
    assert len(mailbox.to("mum@example.org")) == 1


def sessions_revoked(person_id: str, reason: str, notice: bool) -> Event:
    return event(
        "identity.session.revoked",
        person_id,
        user_id=person_id,
        person_id=person_id,
        scope="all",
        reason=reason,
        revoked_at="2026-11-29T09:00:00.000Z",
        notice=notice,
    )


def test_a_user_signed_out_everywhere_by_a_temporary_password_is_told(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    person, quiet = new_id(), new_id()
    handlers = build_handlers(delivery_config)
    for incoming in (
        contact_changed(person, "parent@example.org"),
        contact_changed(quiet, "other@example.org"),
        sessions_revoked(person, "administrator", notice=True),
        sessions_revoked(quiet, "logout", notice=False),
    ):
        with notify_database.transaction() as session:
            handlers[incoming.type](session, incoming)

    assert Sender(delivery_config).send_due(notify_database) == 1
    [message] = mailbox.to("parent@example.org")
    assert message["Subject"] == "Выполнен выход на всех устройствах"
    assert "временный пароль" in message.get_content()
    assert mailbox.to("other@example.org") == []


def test_a_message_due_for_ten_minutes_shows_in_the_lateness_gauge(
    notify_database: Database, delivery_config: DeliveryConfig
) -> None:
    sender = Sender(delivery_config)
    assert sender.measure_lateness(notify_database, datetime.now(UTC)) == 0.0
    queue_block_notice(notify_database, delivery_config, "teacher@example.org")
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert 590 < sender.measure_lateness(notify_database, later) < 610
    assert REGISTRY.get_sample_value("notify_oldest_undelivered_age_seconds") > 590
