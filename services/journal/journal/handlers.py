"""The one table of what the journal worker consumes: event type -> handler."""

from journal import backfill, erasure
from schoolkit.consumer import Handler
from schoolkit.denylist import HANDLERS as DENY_LIST_HANDLERS
from schoolkit.erasure import erasure_handler

HANDLERS: dict[str, Handler] = {
    **DENY_LIST_HANDLERS,
    "consent.erasure.requested": erasure_handler("journal", erasure.erase, erasure.HOLDS),
    "diary.backfill.requested": backfill.on_backfill_requested,
}
