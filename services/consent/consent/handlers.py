"""The one table of what the consent worker consumes: event type -> handler."""

from schoolkit.consumer import Handler
from schoolkit.denylist import HANDLERS as DENY_LIST_HANDLERS

HANDLERS: dict[str, Handler] = {
    **DENY_LIST_HANDLERS,
}
