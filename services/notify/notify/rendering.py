"""What a claimed message says and where it goes, decided when it leaves.

Legal notices were rendered when queued (their contact may be gone by now). Everyday news
is rendered from today's contact and names, and only for children whose agreement with
this guardian is still in force: an item queued for a digest whose agreement has since
ended is cancelled, not sent (R-DRY-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from notify import categories, unsubscribe
from notify.config import DeliveryConfig
from notify.models import Agreement, Contact, Delivery, Person
from notify.news import in_force
from notify.news_texts import NewsLine, news_message
from notify.sms import one_part


@dataclass(frozen=True)
class Render:
    ids: list[str]
    channel: str
    address: str
    subject: str
    body: str
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class Cancel:
    """Nothing to send: `report` when someone must hear it failed (a legal notice)."""

    reason: str
    report: bool = False


class NotYet(Exception):
    """Not sendable yet: the child's name has not arrived from identity."""


def render_group(
    session: Session, group: list[Delivery], config: DeliveryConfig
) -> Render | Cancel | NotYet:
    first = group[0]
    if first.category is None:  # a legal notice of identity's or consent's, rendered already
        return Render(
            [first.id], first.channel, first.address or "", first.subject or "", first.body or ""
        )
    contact = session.get(Contact, first.recipient_id)
    legal = any(d.category in categories.LEGAL for d in group)
    address = _address(contact, first)
    if address is None:
        return Cancel("no_contact", report=legal)
    kept = _still_covered(session, group)
    for delivery in group:
        if delivery not in kept:
            _cancel(delivery, "agreement_ended")
    if not kept:
        return Cancel("agreement_ended")
    names = _names(session, first.school_id, {d.student_id for d in kept if d.student_id})
    if any(d.student_id not in names for d in kept):
        return NotYet("no_name")
    lines = [NewsLine(d.category or "", names[d.student_id or ""], dict(d.details)) for d in kept]
    message = news_message(lines, contact.language if contact else "ru")
    ids = [d.id for d in kept]
    if first.channel == "sms" and not legal:
        # The line names the child and says what happened: the subject would only cost a
        # second part, and everyday news never takes more than one.
        return Render(ids, "sms", address, "", one_part(message.body))
    digest = first.channel == "email" and first.cadence in categories.DIGESTS
    url = (
        unsubscribe.link(
            config.public_url, config.unsubscribe_secret, first.recipient_id, first.school_id
        )
        if digest
        else None
    )
    return Render(ids, first.channel, address, message.subject, message.body, url)


def _address(contact: Contact | None, delivery: Delivery) -> str | None:
    if contact is None or contact.school_id != delivery.school_id:
        return None
    return contact.email if delivery.channel == "email" else contact.phone


def _still_covered(session: Session, group: list[Delivery]) -> list[Delivery]:
    first = group[0]
    covered = set(
        session.scalars(
            select(Agreement.student_id).where(
                Agreement.school_id == first.school_id,
                Agreement.guardian_id == first.recipient_id,
                in_force(datetime.now(UTC)),
            )
        )
    )
    return [d for d in group if d.category in categories.LEGAL or d.student_id in covered]


def _names(session: Session, school_id: str, students: set[str]) -> dict[str, str]:
    rows = session.execute(
        select(Person.person_id, Person.first_name, Person.last_name).where(
            Person.school_id == school_id, Person.person_id.in_(students)
        )
    )
    return {person: f"{first} {last}" for person, first, last in rows}


def _cancel(delivery: Delivery, reason: str) -> None:
    delivery.status = "cancelled"
    delivery.finished_at = datetime.now(UTC)
    delivery.sending_since = None
    delivery.details = {}
    delivery.last_error = reason
