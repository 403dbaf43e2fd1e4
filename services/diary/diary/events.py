"""The event types the diary service publishes; each must name diary as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset(
    {
        "diary.acknowledged",  # acknowledging.acknowledge (R-DRY-5)
        "diary.erasure.completed",  # schoolkit.erasure, around diary.erasure.erase
        "diary.backfill.requested",  # backfill.request, when an agreement covers someone new
        "diary.erasure.purged",  # schoolkit.housekeeping, after the erasure
    }
)
