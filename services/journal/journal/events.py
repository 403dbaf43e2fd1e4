"""The event types the journal service publishes; each must name journal as sender in contracts/asyncapi.yaml."""

PUBLISHES: frozenset[str] = frozenset(
    {
        "journal.attendance.recorded",
        "journal.calendar.changed",
        "journal.subject.changed",
        "journal.class.changed",
        "journal.erasure.completed",
        "journal.erasure.purged",  # schoolkit.housekeeping, after the erasure
        "journal.homework.assigned",
        "journal.lesson.changed",
        "journal.mark.corrected",
        "journal.mark.recorded",
        "journal.mark.removed",
        "journal.message.sent",
        "journal.period.finalized",
        "journal.student.enrolled",
        "journal.student.left",
        "journal.student.transferred",
        "journal.student.snapshot",  # backfill: the answer to diary.backfill.requested
    }
)
