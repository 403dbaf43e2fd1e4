"""The one table of what the identity worker consumes: event type -> handler.

Identity owns the deny-list (it writes its own rows when it blocks), so it does not
consume its own blocking events.
"""

from identity import erasure
from schoolkit.consumer import Handler
from schoolkit.erasure import erasure_handler

HANDLERS: dict[str, Handler] = {
    "consent.erasure.requested": erasure_handler("identity", erasure.erase, erasure.HOLDS),
}
