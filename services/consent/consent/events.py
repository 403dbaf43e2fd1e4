"""The event types the consent service publishes; each must name consent as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset(
    {
        "consent.given",
        "consent.revoked",
        "consent.agreement.concluded",
        "consent.agreement.terminated",
        "consent.erasure.requested",
        "consent.erasure.finished",
        "consent.erasure.overdue",
        "consent.erasure.completed",
        "consent.erasure.purged",  # schoolkit.housekeeping, after the erasure
    }
)
