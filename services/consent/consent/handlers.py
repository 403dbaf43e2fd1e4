"""The one table of what the consent worker consumes: event type -> handler."""

from __future__ import annotations

from sqlalchemy.orm import Session

from consent import erasure, purges, registry
from consent.coordinator import Coordinator
from consent.settings import ErasureSettings
from schoolkit.consumer import Handler
from schoolkit.denylist import HANDLERS as DENY_LIST_HANDLERS
from schoolkit.erasure import erasure_handler
from schoolkit.events import Event

PARTICIPANTS = ("identity", "journal", "diary", "notify", "archive", "consent")


def build_handlers(coordinator: Coordinator) -> dict[str, Handler]:
    def on_student_left(session: Session, event: Event) -> None:
        registry.student_left(session, coordinator, event)

    confirmations: dict[str, Handler] = {
        f"{participant}.erasure.completed": coordinator.confirm for participant in PARTICIPANTS
    }
    purged: dict[str, Handler] = {
        f"{participant}.erasure.purged": purges.record_purge for participant in PARTICIPANTS
    }
    return {
        **DENY_LIST_HANDLERS,
        "journal.student.left": on_student_left,
        "consent.erasure.requested": erasure_handler("consent", erasure.erase, erasure.HOLDS),
        **confirmations,
        **purged,
    }


HANDLERS: dict[str, Handler] = build_handlers(Coordinator(ErasureSettings()))
