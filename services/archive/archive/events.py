"""The event types the archive service publishes; each must name archive as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset(
    {
        "archive.backup.completed",
        "archive.backup.failed",
        "archive.erasure.completed",
        "archive.erasure.purged",  # schoolkit.housekeeping, after the erasure
    }
)
