"""The event types the identity service publishes; each must name identity as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset()
