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

from notify import categories, templates, unsubscribe
from notify.config import DeliveryConfig
from notify.models import Agreement, Contact, Delivery, Person
from notify.news import in_force
from notify.news_texts import NewsLine, Wording, news_message
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


@dataclass(frozen=True)
class Lookups:
    """What rendering a batch needs, fetched in three queries for the whole batch."""

    contacts: dict[str, Contact]
    names: dict[tuple[str, str], str]  # (school, student) -> the child's name
    covered: set[tuple[str, str, str]]  # (school, guardian, student) agreements in force
    wording: dict[tuple[str, str], Wording]  # (school, language) -> the school's templates


def look_up(session: Session, rows: list[Delivery]) -> Lookups:
    recipients = {row.recipient_id for row in rows}
    students = {row.student_id for row in rows if row.student_id}
    contacts = session.scalars(select(Contact).where(Contact.person_id.in_(recipients)))
    names = session.execute(
        select(Person.school_id, Person.person_id, Person.first_name, Person.last_name).where(
            Person.person_id.in_(students)
        )
    )
    covered = session.execute(
        select(Agreement.school_id, Agreement.guardian_id, Agreement.student_id).where(
            Agreement.guardian_id.in_(recipients), in_force(datetime.now(UTC))
        )
    )
    wording: dict[tuple[str, str], Wording] = {}
    for school in {row.school_id for row in rows if row.category is not None}:
        for (category, language), template in templates.of_school(session, school).items():
            wording.setdefault((school, language), {})[category] = (
                template.subject,
                template.body,
            )
    return Lookups(
        wording=wording,
        contacts={contact.person_id: contact for contact in contacts},
        names={(school, person): f"{first} {last}" for school, person, first, last in names},
        covered={(school, guardian, student) for school, guardian, student in covered},
    )


def render_group(
    group: list[Delivery], config: DeliveryConfig, lookups: Lookups
) -> Render | Cancel | NotYet:
    first = group[0]
    if first.category is None:  # a legal notice of identity's or consent's, rendered already
        return Render(
            [first.id], first.channel, first.address or "", first.subject or "", first.body or ""
        )
    contact = lookups.contacts.get(first.recipient_id)
    legal = any(d.category in categories.LEGAL for d in group)
    address = _address(contact, first)
    if address is None:
        return Cancel("no_contact", report=legal)
    kept = [
        d
        for d in group
        if d.category in categories.LEGAL
        or (d.school_id, d.recipient_id, d.student_id) in lookups.covered
    ]
    for delivery in group:
        if delivery not in kept:
            _cancel(delivery, "agreement_ended")
    if not kept:
        return Cancel("agreement_ended")
    names = lookups.names
    if any((d.school_id, d.student_id) not in names for d in kept):
        return NotYet("no_name")
    lines = [
        NewsLine(d.category or "", names[(d.school_id, d.student_id or "")], dict(d.details))
        for d in kept
    ]
    language = contact.language if contact and contact.language == "en" else "ru"
    message = news_message(lines, language, lookups.wording.get((first.school_id, language)))
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


def _cancel(delivery: Delivery, reason: str) -> None:
    delivery.status = "cancelled"
    delivery.finished_at = datetime.now(UTC)
    delivery.sending_since = None
    delivery.details = {}
    delivery.last_error = reason
