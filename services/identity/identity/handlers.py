"""The one table of what the identity worker consumes: event type -> handler.

Identity owns the deny-list (it writes its own rows when it blocks), so it does not
consume its own blocking events. From the journal it copies only which class each
student is in and who the class teacher is (for codes and slips). To the diary it answers
a late agreement's request with the names it had to drop (identity/backfill.py).
"""

from identity import backfill, classes, erasure
from schoolkit.consumer import Handler
from schoolkit.erasure import erasure_handler

HANDLERS: dict[str, Handler] = {
    "consent.erasure.requested": erasure_handler("identity", erasure.erase, erasure.HOLDS),
    "journal.class.changed": classes.on_class_changed,
    "journal.student.enrolled": classes.on_student_placed,
    "journal.student.transferred": classes.on_student_placed,
    "journal.student.left": classes.on_student_left,
    "diary.backfill.requested": backfill.on_backfill_requested,
}
