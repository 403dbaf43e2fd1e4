"""The one table of what the notify worker consumes: event type -> handler."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import delete
from sqlalchemy.orm import Session

from notify import copies, erasure
from notify.config import DeliveryConfig
from notify.journal_news import news_handlers
from notify.models import Contact, Guardianship
from notify.notices import queue_notice
from schoolkit import tombstones
from schoolkit.consumer import Handler
from schoolkit.denylist import HANDLERS as DENY_LIST_HANDLERS
from schoolkit.erasure import erasure_handler
from schoolkit.events import Event
from schoolkit.handler_table import HandlerTable
from schoolkit.ordering import accept_version


def on_contact_changed(session: Session, event: Event) -> str | None:
    data = event.data
    if not accept_version(session, "contact", data["person_id"], data["entity_version"]):
        return "stale"
    contact = session.get(Contact, data["person_id"]) or Contact(person_id=data["person_id"])
    contact.school_id = event.school_id
    contact.email = data.get("email")
    contact.phone = data.get("phone")
    contact.language = data.get("preferred_language") or "ru"
    session.add(contact)
    return None


def on_guardian_linked(session: Session, event: Event) -> str | None:
    data = event.data
    if tombstones.is_erased(session, event.school_id, data["guardian_id"]):
        return "tombstoned"  # the subject is the child; the guardian may be the one erased
    if not accept_version(session, "guardianship", data["guardianship_id"], data["entity_version"]):
        return "stale"
    session.merge(
        Guardianship(
            guardianship_id=data["guardianship_id"],
            school_id=event.school_id,
            guardian_id=data["guardian_id"],
            student_id=data["student_id"],
        )
    )
    return None


def on_guardian_unlinked(session: Session, event: Event) -> str | None:
    data = event.data
    if not accept_version(session, "guardianship", data["guardianship_id"], data["entity_version"]):
        return "stale"
    session.execute(
        delete(Guardianship).where(Guardianship.guardianship_id == data["guardianship_id"])
    )
    return None


def access_notice(notice: str, config: DeliveryConfig) -> Handler:
    """R-IDN-4, R-NTF-3: a blocked (or restored) user hears of it when identity says so;
    so does one whose every session ended by a temporary password or a password change."""

    def handle(session: Session, event: Event) -> str | None:
        if not event.data.get("notice"):
            return "ignored"
        if tombstones.is_erased(session, event.school_id, event.data["person_id"]):
            # The deny-list's events pass the tombstones (they only take access away);
            # a notice to someone erased would be a new row about them.
            return "tombstoned"
        details = {
            key: str(event.data[key]) for key in ("reason", "restored_with") if key in event.data
        }
        queue_notice(
            session,
            recipient_id=event.data["person_id"],
            notice=notice,
            about=event,
            details=details,
            config=config,
        )
        return None

    return handle


def in_turn(*handlers: Handler) -> Handler:
    """Several reactions to one event type, in one transaction."""

    def handle(session: Session, event: Event) -> str | None:
        outcomes = [handler(session, event) for handler in handlers]
        return None if None in outcomes else outcomes[-1]

    return handle


def build_handlers(config: DeliveryConfig) -> dict[str, Handler]:
    tell: Callable[[Session, Event], None] = lambda session, event: erasure.tell_of_destruction(  # noqa: E731
        session, event, config
    )
    return {
        **DENY_LIST_HANDLERS,
        "identity.contact.changed": on_contact_changed,
        "identity.guardian.linked": on_guardian_linked,
        "identity.guardian.unlinked": on_guardian_unlinked,
        "identity.account.blocked": in_turn(
            DENY_LIST_HANDLERS["identity.account.blocked"], access_notice("account_blocked", config)
        ),
        "identity.account.unblocked": in_turn(
            DENY_LIST_HANDLERS["identity.account.unblocked"],
            access_notice("account_unblocked", config),
        ),
        "identity.session.revoked": in_turn(
            DENY_LIST_HANDLERS["identity.session.revoked"], access_notice("sessions_ended", config)
        ),
        "identity.person.changed": copies.on_person_changed,
        "journal.student.enrolled": copies.on_student_enrolled,
        "journal.student.transferred": copies.on_student_transferred,
        "journal.student.left": copies.on_student_left,
        "consent.agreement.concluded": copies.on_agreement_concluded,
        "consent.revoked": copies.on_consent_revoked,
        **news_handlers(config),
        "consent.erasure.requested": erasure_handler("notify", erasure.erase, erasure.HOLDS),
        "consent.erasure.finished": tell,
    }


# Built on first use: importing this module reads no setting (schoolkit.handler_table).
HANDLERS: Mapping[str, Handler] = HandlerTable(lambda: build_handlers(DeliveryConfig.from_env()))
