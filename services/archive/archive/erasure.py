"""The archive's part of an erasure (DESIGN §4.6): crypto-shredding.

Destroying a person's key makes every record sealed with it unreadable, in the live
store and in every backup file; the live records go too. The tombstone that the kit's
erasure handler writes is the erasure ledger a restore replays.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from archive.keys import KeyStore
from archive.models import ArchivedRecord
from schoolkit.erasure import ErasureOutcome, ErasureRequest

# The one category the retention policy names for the archive's copies of everything.
BACKUPS = "backups"
HOLDS = frozenset({BACKUPS})


def eraser(keys: KeyStore) -> Callable[[Session, ErasureRequest], ErasureOutcome]:
    def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
        outcome = ErasureOutcome()
        if not request.asks_for(BACKUPS):
            return outcome
        subjects, school = request.subject_ids, request.school_id
        # Only the erasure's school: another school's request naming the same id must not
        # shred a key, or delete records, that this school's people are sealed with.
        outcome.count("subject_keys", keys.shred(session, subjects, school))
        of_school = ArchivedRecord.school_id == school
        refs = [keys.ref(subject) for subject in subjects]
        gone = session.execute(
            delete(ArchivedRecord).where(of_school, ArchivedRecord.key_id.in_(refs))
        )
        outcome.count("archived_records", gone.rowcount or 0)
        return outcome

    return erase
