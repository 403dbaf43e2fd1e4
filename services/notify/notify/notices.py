"""Turning what happened into deliveries: one per person and channel that can reach them.

The address and the text are copied into the delivery when it is queued, so a notice
can still go out after the contact itself was erased; they are scrubbed once the
delivery is sent or given up (sending.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from notify.config import DeliveryConfig
from notify.messages import render
from notify.models import Contact, Delivery, Preference
from schoolkit.events import Event
from schoolkit.outbox import publish

# Notices the law or the diary agreement demands go out whatever the preferences say.
LEGAL_NOTICES = frozenset({"data_destroyed", "account_blocked", "account_unblocked"})


def queue_notice(
    session: Session,
    *,
    recipient_id: str,
    notice: str,
    about: Event,
    details: dict[str, str],
    config: DeliveryConfig,
) -> list[Delivery]:
    """Queue `notice` for every channel that reaches the recipient; report when none does."""
    contact = session.get(Contact, recipient_id)
    channels = _channels(session, contact, notice, config)
    if contact is None or not channels:
        _report_unreachable(session, recipient_id, notice, about)
        return []
    message = render(notice, contact.language, details)
    deliveries = [
        Delivery(
            school_id=about.school_id,
            recipient_id=recipient_id,
            channel=channel,
            notice=notice,
            about_event_type=about.type,
            about_event_id=about.id,
            address=address,
            subject=message.subject,
            body=message.body,
            details=details,
        )
        for channel, address in channels
    ]
    session.add_all(deliveries)
    return deliveries


def _channels(
    session: Session, contact: Contact | None, notice: str, config: DeliveryConfig
) -> list[tuple[str, str]]:
    if contact is None:
        return []
    wanted = session.get(Preference, contact.person_id)
    if wanted is not None and wanted.school_id != contact.school_id:
        wanted = None  # a choice made in another school's name is no choice of theirs
    legal = notice in LEGAL_NOTICES
    channels: list[tuple[str, str]] = []
    if contact.email and (legal or wanted is None or wanted.email):
        channels.append(("email", contact.email))
    if contact.phone and config.sms_enabled and (legal or wanted is None or wanted.sms):
        channels.append(("sms", contact.phone))
    return channels


def _report_unreachable(session: Session, recipient_id: str, notice: str, about: Event) -> None:
    """The school must then tell the person in writing: notify says so at once."""
    now = datetime.now(UTC)
    delivery = Delivery(
        school_id=about.school_id,
        recipient_id=recipient_id,
        channel="email",
        notice=notice,
        about_event_type=about.type,
        about_event_id=about.id,
        status="failed",
        last_error="no_contact",
        finished_at=now,
        details={},
    )
    session.add(delivery)
    session.flush()
    publish(session, delivery_failed_event(delivery, "no_contact", now))


def delivery_failed_event(delivery: Delivery, reason: str, at: datetime) -> Event:
    return Event(
        type="notify.delivery.failed",
        school_id=delivery.school_id,
        subject=delivery.recipient_id,
        data={
            "delivery_id": delivery.id,
            "recipient_id": delivery.recipient_id,
            "channel": delivery.channel,
            "reason": reason,
            "about_event_type": delivery.about_event_type,
            "about_event_id": delivery.about_event_id,
            "attempts": max(delivery.attempts, 1),
            "failed_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        },
    )
