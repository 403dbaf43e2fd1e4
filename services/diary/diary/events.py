"""The event types the diary service publishes; each must name diary as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset()
