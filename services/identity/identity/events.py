"""The event types the identity service publishes; each must name identity as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset(
    {
        "identity.person.changed",
        "identity.person.snapshot",  # backfill: the answer to diary.backfill.requested
        "identity.contact.changed",
        "identity.user.registered",
        "identity.guardian.linked",
        "identity.guardian.unlinked",
        "identity.account.blocked",
        "identity.account.unblocked",
        "identity.session.revoked",
        "identity.erasure.completed",
        "identity.erasure.purged",  # schoolkit.housekeeping, after the erasure
    }
)
