"""Everyday news about a child turned into deliveries for the guardians who may hear it.

Who hears: the child's guardians (identity's links) whose diary agreement for that child
is in force (consent's events) — the diary's own gate, R-DRY-3 — minus whoever caused the
event and anyone erased in the school. How and when: their choices per category and
channel (categories.py) on their clock (planning.py). A delivery is written at once, in
state `created` with its planned time when it must wait; its text is rendered when it
leaves (sending.py), so a mark corrected meanwhile goes out with its final value and a
mark removed meanwhile does not go out at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from notify import categories
from notify.config import DeliveryConfig
from notify.models import Agreement, Contact, Delivery, Guardianship, Preference
from notify.planning import Rhythm, parse_clock, planned_time
from schoolkit import tombstones
from schoolkit.events import Event
from schoolkit.times import school_zone

log = logging.getLogger(__name__)

UNSENT = ("created", "pending")


@dataclass(frozen=True)
class Item:
    """One piece of news about one child; `topic` names what a later event may revise."""

    category: str
    student_id: str
    facts: dict[str, str]
    topic: str | None = None


@dataclass
class Occasion:
    """The event behind some news, who caused it, and when notify heard of it."""

    event: Event
    actors: frozenset[str] = frozenset()
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def in_force(now: datetime):  # type: ignore[no-untyped-def]
    return or_(Agreement.ends_at.is_(None), Agreement.ends_at > now)


def covered_guardians(session: Session, school_id: str, student_id: str, now: datetime) -> set[str]:
    """The child's linked guardians with a diary agreement in force for the child."""
    linked = exists().where(
        Guardianship.school_id == school_id,
        Guardianship.guardian_id == Agreement.guardian_id,
        Guardianship.student_id == student_id,
    )
    query = select(Agreement.guardian_id).where(
        Agreement.school_id == school_id,
        Agreement.student_id == student_id,
        in_force(now),
        linked,
    )
    return set(session.scalars(query))


def announce(
    session: Session, occasion: Occasion, items: Iterable[Item], config: DeliveryConfig
) -> int:
    """Queue each item for everyone who may hear it; returns how many deliveries it wrote.

    A whole class's final marks are one event: who may hear, their contacts and their
    choices are each fetched once for all of its children, not once per child.
    """
    school = occasion.event.school_id
    items = list(items)
    students = {item.student_id for item in items}
    students -= tombstones.erased_among(session, students, school)
    coverage = _coverage(session, school, students, occasion.now)
    everyone = set().union(*coverage.values()) - occasion.actors if coverage else set()
    everyone -= tombstones.erased_among(session, everyone, school)
    known = Known.of(session, school, everyone)
    changed = 0
    for item in items:
        for guardian in coverage.get(item.student_id, set()) & everyone:
            changed += _queue_for(session, occasion, guardian, item, config, known=known)
    return changed


def _coverage(
    session: Session, school_id: str, students: set[str], now: datetime
) -> dict[str, set[str]]:
    """Per child, the linked guardians with a diary agreement in force for the child."""
    if not students:
        return {}
    linked = exists().where(
        Guardianship.school_id == school_id,
        Guardianship.guardian_id == Agreement.guardian_id,
        Guardianship.student_id == Agreement.student_id,
    )
    rows = session.execute(
        select(Agreement.student_id, Agreement.guardian_id).where(
            Agreement.school_id == school_id,
            Agreement.student_id.in_(students),
            in_force(now),
            linked,
        )
    )
    coverage: dict[str, set[str]] = {}
    for student, guardian in rows:
        coverage.setdefault(student, set()).add(guardian)
    return coverage


@dataclass(frozen=True)
class Known:
    """The contacts and choices of the guardians an event reaches, of its school only."""

    contacts: dict[str, Contact]
    preferences: dict[str, Preference]

    @classmethod
    def of(cls, session: Session, school_id: str, guardians: Iterable[str]) -> Known:
        wanted = set(guardians)
        if not wanted:
            return cls({}, {})
        contacts = session.scalars(
            select(Contact).where(Contact.person_id.in_(wanted), Contact.school_id == school_id)
        )
        # A choice made in another school's name is no choice of theirs.
        preferences = session.scalars(
            select(Preference).where(
                Preference.person_id.in_(wanted), Preference.school_id == school_id
            )
        )
        return cls({c.person_id: c for c in contacts}, {p.person_id: p for p in preferences})


def _audience(session: Session, occasion: Occasion, item: Item) -> set[str]:
    school = occasion.event.school_id
    guardians = covered_guardians(session, school, item.student_id, occasion.now)
    guardians -= occasion.actors  # never to the person who caused it
    return guardians - tombstones.erased_among(session, guardians, school)


def revise(session: Session, occasion: Occasion, item: Item, config: DeliveryConfig) -> int:
    """A changed entity: unsent news about it takes the new facts (one message, final
    value); a guardian already told hears of the change."""
    unsent = _unsent_about(session, occasion.event.school_id, item.topic)
    for delivery in unsent:
        delivery.details = {**delivery.details, **item.facts, "change": delivery.details["change"]}
    told = {delivery.recipient_id for delivery in unsent}
    changed = len(unsent)
    for guardian in _audience(session, occasion, item) - told:
        changed += _queue_for(session, occasion, guardian, item, config)
    return changed


def withdraw(session: Session, occasion: Occasion, item: Item, config: DeliveryConfig) -> int:
    """A removed entity: unsent news about it is cancelled; a guardian already told hears
    that it was removed."""
    unsent = _unsent_about(session, occasion.event.school_id, item.topic)
    for delivery in unsent:
        delivery.status = "cancelled"
        delivery.finished_at = occasion.now
        delivery.details = {"change": "cancelled"}
    told = _told_about(session, occasion.event.school_id, item.topic)
    changed = len(unsent)
    for guardian in told - {delivery.recipient_id for delivery in unsent}:
        changed += _queue_for(session, occasion, guardian, item, config)
    return changed


def _unsent_about(session: Session, school_id: str, topic: str | None) -> list[Delivery]:
    if topic is None:
        return []
    query = select(Delivery).where(
        Delivery.school_id == school_id, Delivery.topic == topic, Delivery.status.in_(UNSENT)
    )
    return list(session.scalars(query))


def _told_about(session: Session, school_id: str, topic: str | None) -> set[str]:
    """Who already heard of the topic (the message left, or is leaving)."""
    query = select(Delivery.recipient_id).where(
        Delivery.school_id == school_id,
        Delivery.topic == topic,
        Delivery.status.in_(("sending", "sent")),
    )
    return set(session.scalars(query))


def queue_for_guardian(
    session: Session, occasion: Occasion, guardian: str, item: Item, config: DeliveryConfig
) -> int:
    """One named guardian, whatever the agreement: for a notice about the agreement itself."""
    if tombstones.is_erased(session, occasion.event.school_id, guardian, item.student_id):
        return 0
    return _queue_for(session, occasion, guardian, item, config)


def _queue_for(
    session: Session,
    occasion: Occasion,
    guardian: str,
    item: Item,
    config: DeliveryConfig,
    *,
    known: Known | None = None,
) -> int:
    known = known or Known.of(session, occasion.event.school_id, [guardian])
    contact = known.contacts.get(guardian)
    if contact is None:
        log.info("news without a contact", extra={"recipient_id": guardian})
        return 0
    preference = known.preferences.get(guardian)
    queued = 0
    for channel in _channels(contact, preference, item.category, config):
        chosen = categories.cadence(
            preference.choices if preference else {}, item.category, channel
        )
        if chosen == "never":
            continue
        session.add(
            _delivery(
                occasion,
                guardian=guardian,
                item=item,
                channel=channel,
                cadence=chosen,
                preference=preference,
                config=config,
            )
        )
        queued += 1
    return queued


def _channels(
    contact: Contact, preference: Preference | None, category: str, config: DeliveryConfig
) -> list[str]:
    legal = category in categories.LEGAL
    channels = []
    if contact.email and (legal or preference is None or preference.email):
        channels.append("email")
    if contact.phone and config.sms_enabled and (legal or preference is None or preference.sms):
        channels.append("sms")
    return channels  # push: not until the web app's service worker subscribes (issue 17)


def rhythm_of(preference: Preference | None, config: DeliveryConfig) -> Rhythm:
    base = Rhythm(
        quiet_from=parse_clock(config.quiet_from),
        quiet_until=parse_clock(config.quiet_until),
        digest_at=parse_clock(config.digest_at),
    )
    if preference is None:
        return base
    return Rhythm(
        quiet_from=parse_clock(preference.quiet_from) if preference.quiet_from else base.quiet_from,
        quiet_until=(
            parse_clock(preference.quiet_until) if preference.quiet_until else base.quiet_until
        ),
        digest_at=parse_clock(preference.digest_at) if preference.digest_at else base.digest_at,
        weekly_on=preference.weekly_on or base.weekly_on,
    )


def _delivery(
    occasion: Occasion,
    *,
    guardian: str,
    item: Item,
    channel: str,
    cadence: str,
    preference: Preference | None,
    config: DeliveryConfig,
) -> Delivery:
    if item.category in categories.LEGAL:
        planned = occasion.now  # legal notices ignore quiet hours too
    else:
        # A mark often changes again within minutes: it settles first (issue 17 §4).
        settles = item.category == categories.MARK and cadence == "immediately"
        settle = config.mark_settle_seconds if settles else 0.0
        rhythm = rhythm_of(preference, config)
        planned = planned_time(occasion.now, cadence, rhythm, school_zone(), settle)
    event = occasion.event
    return Delivery(
        school_id=event.school_id,
        recipient_id=guardian,
        channel=channel,
        notice=item.category,
        about_event_type=event.type,
        about_event_id=event.id,
        status="pending" if planned <= occasion.now else "created",
        category=item.category,
        student_id=item.student_id,
        topic=item.topic,
        cadence=cadence,
        details={"change": "new", **item.facts},
        next_attempt_at=planned,
        created_at=occasion.now,
    )
