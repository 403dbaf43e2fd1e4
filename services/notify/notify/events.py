"""The event types the notify service publishes; each must name notify as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset(
    {
        "notify.delivery.failed",
        "notify.erasure.completed",
        "notify.erasure.purged",  # schoolkit.housekeeping, after the erasure
    }
)
