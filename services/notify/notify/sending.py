"""Sending queued deliveries: a periodic task of the notify worker.

Each turn claims the deliveries that are due, sends them, and records the outcome; a
failure is retried with exponential back-off, and after the last try notify gives up
and publishes `notify.delivery.failed`. Whatever the outcome, the address and the text
are scrubbed from the row at the end: only ids and the status remain.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from notify.config import DeliveryConfig
from notify.models import Delivery
from notify.notices import delivery_failed_event
from schoolkit.db import Database
from schoolkit.outbox import publish

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The provider refused for good (bad address, rejected): no point in retrying."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transport(Protocol):
    def send(self, delivery: Delivery) -> None: ...


class SmtpTransport:
    def __init__(self, config: DeliveryConfig) -> None:
        self.config = config

    def send(self, delivery: Delivery) -> None:
        message = EmailMessage()
        message["From"] = self.config.mail_from
        message["To"] = delivery.address or ""
        message["Subject"] = delivery.subject or ""
        message["X-Delivery-Id"] = delivery.id
        message.set_content(delivery.body or "")
        try:
            with smtplib.SMTP(self.config.smtp_host, self.config.smtp_port, timeout=10) as smtp:
                if self.config.smtp_starttls:
                    smtp.starttls()
                if self.config.smtp_user:
                    smtp.login(self.config.smtp_user, self.config.smtp_password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentFailure("invalid_address") from error


class HttpSmsTransport:
    """An SMS gateway that takes `{"to", "text", "id"}` as JSON over HTTP."""

    def __init__(self, config: DeliveryConfig) -> None:
        self.url = config.sms_url or ""

    def send(self, delivery: Delivery) -> None:
        text = f"{delivery.subject}. {delivery.body}"
        response = requests.post(
            self.url, json={"to": delivery.address, "text": text, "id": delivery.id}, timeout=10
        )
        if response.status_code in (400, 422):
            raise PermanentFailure("rejected")
        response.raise_for_status()


class Sender:
    """Sends what is due; `transports` maps a channel to its transport."""

    def __init__(self, config: DeliveryConfig, transports: dict[str, Transport] | None = None):
        self.config = config
        self.transports = transports or {
            "email": SmtpTransport(config),
            "sms": HttpSmsTransport(config),
        }

    def __call__(self, database: Database) -> None:
        self.send_due(database)

    def send_due(self, database: Database) -> int:
        """One turn; returns how many deliveries it finished (sent or given up)."""
        with database.transaction() as session:
            due = self._claim(session)
            finished = sum(self._attempt(session, delivery) for delivery in due)
        return finished

    def _claim(self, session: Session) -> list[Delivery]:
        query = (
            select(Delivery)
            .where(Delivery.status == "pending", Delivery.next_attempt_at <= datetime.now(UTC))
            .order_by(Delivery.next_attempt_at)
            .limit(self.config.batch_size)
            .with_for_update(skip_locked=True)
        )
        return list(session.scalars(query))

    def _attempt(self, session: Session, delivery: Delivery) -> bool:
        delivery.attempts += 1
        try:
            self.transports[delivery.channel].send(delivery)
        except PermanentFailure as refusal:
            self._give_up(session, delivery, refusal.reason)
            return True
        except (OSError, smtplib.SMTPException, requests.RequestException) as error:
            return self._retry_or_give_up(session, delivery, type(error).__name__)
        self._finish(delivery, "sent")
        log.info("delivery sent", extra={"delivery_id": delivery.id, "channel": delivery.channel})
        return True

    def _retry_or_give_up(self, session: Session, delivery: Delivery, error: str) -> bool:
        if delivery.attempts >= self.config.max_attempts:
            self._give_up(session, delivery, "provider_error")
            return True
        delay = self.config.first_retry_seconds * 2 ** (delivery.attempts - 1)
        delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
        delivery.last_error = error
        log.warning(
            "delivery failed; will retry",
            extra={"delivery_id": delivery.id, "attempt": delivery.attempts, "error": error},
        )
        return False

    def _give_up(self, session: Session, delivery: Delivery, reason: str) -> None:
        self._finish(delivery, "failed")
        delivery.last_error = reason
        publish(session, delivery_failed_event(delivery, reason, delivery.finished_at))
        log.warning("delivery given up", extra={"delivery_id": delivery.id, "reason": reason})

    @staticmethod
    def _finish(delivery: Delivery, status: str) -> None:
        delivery.status = status
        delivery.finished_at = datetime.now(UTC)
        delivery.address = None
        delivery.subject = None
        delivery.body = None
