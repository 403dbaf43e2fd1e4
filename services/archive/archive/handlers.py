"""The one table of what the archive worker consumes: event type -> handler."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from archive import ledger
from archive.erasure import HOLDS, eraser
from archive.keys import KeyStore, master_key_from_env
from archive.records import archive_event
from schoolkit.consumer import Handler
from schoolkit.denylist import HANDLERS as DENY_LIST_HANDLERS
from schoolkit.erasure import erasure_handler
from schoolkit.events import Event
from schoolkit.handler_table import HandlerTable

# What the school must be able to reconstruct (R-ARC-1): the journal, the access
# decisions, consents and agreements, acknowledgements. Contacts and names are not kept.
ARCHIVED_TYPES = (
    "identity.account.blocked",
    "identity.account.unblocked",
    "identity.session.revoked",
    "journal.mark.recorded",
    "journal.mark.corrected",
    "journal.mark.removed",
    "journal.attendance.recorded",
    "journal.lesson.changed",
    "journal.homework.assigned",
    "journal.period.finalized",
    "journal.student.enrolled",
    "journal.student.transferred",
    "journal.student.left",
    "journal.calendar.changed",
    "journal.subject.changed",
    "journal.class.changed",
    "journal.message.sent",
    "diary.acknowledged",
    "consent.given",
    "consent.revoked",
    "consent.agreement.concluded",
    "consent.agreement.terminated",
    "consent.erasure.finished",
    # Proof that a message, legal notices among them, could not be delivered (ids only).
    "notify.delivery.failed",
    # When an account was opened, and when an erasure's deadline alarm was raised.
    "identity.user.registered",
    "consent.erasure.overdue",
)


def archiver(keys: KeyStore) -> Handler:
    def archive(session: Session, event: Event) -> str | None:
        return None if archive_event(session, event, keys) else "ignored"

    return archive


def also_archive(first: Handler, keys: KeyStore) -> Handler:
    archive = archiver(keys)

    def handle(session: Session, event: Event) -> str | None:
        first(session, event)
        return archive(session, event)

    return handle


def ledgered(erase: Handler) -> Handler:
    """The archive keeps the erasure ledger: each request is recorded, in the erasure's
    own transaction, before the archive's part of it runs."""

    def handle(session: Session, event: Event) -> str | None:
        ledger.record(session, event)
        return erase(session, event)

    handle.__name__ = erase.__name__
    return handle


def build_handlers(keys: KeyStore) -> dict[str, Handler]:
    table: dict[str, Handler] = {event_type: archiver(keys) for event_type in ARCHIVED_TYPES}
    for event_type, handler in DENY_LIST_HANDLERS.items():
        table[event_type] = also_archive(handler, keys) if event_type in table else handler
    erase = erasure_handler("archive", eraser(keys), HOLDS)
    table["consent.erasure.requested"] = ledgered(erase)
    return table


# Built on first use: importing this module reads no key (schoolkit.handler_table).
HANDLERS: Mapping[str, Handler] = HandlerTable(
    lambda: build_handlers(KeyStore(master_key_from_env()))
)
