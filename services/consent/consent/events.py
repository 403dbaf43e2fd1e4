"""The event types the consent service publishes; each must name consent as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset()
