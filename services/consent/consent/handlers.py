"""The one table of what the consent worker consumes: event type -> handler."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from consent import copies, erasure, purges, registry
from consent.coordinator import Coordinator
from consent.settings import ErasureSettings
from schoolkit.consumer import Handler
from schoolkit.denylist import HANDLERS as DENY_LIST_HANDLERS
from schoolkit.erasure import erasure_handler
from schoolkit.events import Event
from schoolkit.handler_table import HandlerTable

PARTICIPANTS = ("identity", "journal", "diary", "notify", "archive", "consent")


# Consent's copies of who may be named in a consent and which class teacher reaches whom.
COPIES: dict[str, Handler] = {
    "identity.person.changed": copies.on_person_changed,
    "identity.guardian.linked": copies.on_guardian_linked,
    "identity.guardian.unlinked": copies.on_guardian_unlinked,
    "journal.class.changed": copies.on_class_changed,
    "journal.student.enrolled": copies.on_student_placed,
    "journal.student.transferred": copies.on_student_placed,
}


def build_handlers(coordinator: Coordinator) -> dict[str, Handler]:
    def on_student_left(session: Session, event: Event) -> None:
        # The class copy follows the versions; the erasure is opened once per event anyway.
        copies.on_student_left(session, event)
        registry.student_left(session, coordinator, event)

    confirmations: dict[str, Handler] = {
        f"{participant}.erasure.completed": coordinator.confirm for participant in PARTICIPANTS
    }
    purged: dict[str, Handler] = {
        f"{participant}.erasure.purged": purges.record_purge for participant in PARTICIPANTS
    }
    return {
        **DENY_LIST_HANDLERS,
        **COPIES,
        "journal.student.left": on_student_left,
        "consent.erasure.requested": erasure_handler("consent", erasure.erase, erasure.HOLDS),
        **confirmations,
        **purged,
    }


# Built on first use: importing this module reads no setting (schoolkit.handler_table).
HANDLERS: Mapping[str, Handler] = HandlerTable(
    lambda: build_handlers(Coordinator(ErasureSettings()))
)
