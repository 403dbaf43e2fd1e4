"""The one table of what the identity worker consumes: event type -> handler.

Identity owns the deny-list (it blocks users itself), so it does not consume its own
blocking events; the erasure and delivery-failure handlers arrive with their features.
"""

from schoolkit.consumer import Handler

HANDLERS: dict[str, Handler] = {}
