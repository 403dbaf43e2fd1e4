"""The audit chain under concurrent writers on PostgreSQL: entries join the chain at commit,
so writers of one school queue only for the commit, and none fails (R-SEC-4)."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import select

from journal import audit
from journal.models import AuditEntry, AuditValues
from schoolkit.db import Database
from schoolkit.migrate import upgrade

SCHOOL = "school-concurrent"


def change(number: int) -> audit.Change:
    return audit.Change(
        action="create",
        entity="mark",
        entity_id=str(uuid.uuid4()),
        subject_id=str(uuid.uuid4()),
        before=None,
        after={"value": str(number % 5 + 1)},
    )


def test_many_first_writers_of_a_school_all_join_one_intact_chain(postgres_url: str) -> None:
    upgrade("journal", postgres_url)
    database = Database(postgres_url)
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(number: int) -> None:
        try:
            start.wait()
            for round_ in range(5):
                with database.transaction() as session:
                    audit.record_many(session, SCHOOL, "teacher", [change(number * 10 + round_)])
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with database.transaction() as session:
        verdict = audit.verify(session, SCHOOL)
    assert (verdict.entries, verdict.intact) == (40, True)
    database.dispose()


def test_a_rolled_back_change_leaves_no_entry(postgres_url: str) -> None:
    upgrade("journal", postgres_url)
    database = Database(postgres_url)
    session = database.sessions()
    audit.record_many(session, SCHOOL, "teacher", [change(1)])
    session.rollback()
    session.close()
    with database.transaction() as session:
        audit.record_many(session, SCHOOL, "teacher", [change(2)])
    with database.transaction() as session:
        verdict = audit.verify(session, SCHOOL)
    assert (verdict.entries, verdict.intact) == (1, True)
    database.dispose()


def test_a_change_in_a_savepoint_that_rolls_back_leaves_no_entry(postgres_url: str) -> None:
    upgrade("journal", postgres_url)
    database = Database(postgres_url)
    with database.transaction() as session:
        audit.record_many(session, SCHOOL, "teacher", [change(1)])
        refused = session.begin_nested()  # an import row, or one message of a batch, refused
        audit.record_many(session, SCHOOL, "teacher", [change(2), change(3)])
        refused.rollback()
        kept = session.begin_nested()
        audit.record_many(session, SCHOOL, "teacher", [change(4)])
        kept.commit()
    with database.transaction() as session:
        verdict = audit.verify(session, SCHOOL)
    assert (verdict.entries, verdict.intact) == (2, True)
    database.dispose()


def test_a_commit_of_many_changes_links_each_with_its_values(postgres_url: str) -> None:
    upgrade("journal", postgres_url)
    database = Database(postgres_url)
    changes = [change(number) for number in range(250)]  # an import's rows, one commit
    changed = audit.Change("changed", "mark", "m-1", "s-1", {"value": "3"}, {"value": "4"})
    with database.transaction() as session:
        audit.record_many(session, SCHOOL, "teacher", [*changes, changed])
    with database.transaction() as session:
        verdict = audit.verify(session, SCHOOL)
        kept = session.execute(
            select(
                AuditEntry.entity_id, AuditValues.subject_id, AuditValues.before, AuditValues.after
            )
            .join(AuditValues, AuditValues.entry_id == AuditEntry.entry_id)
            .where(AuditEntry.school_id == SCHOOL)
            .order_by(AuditEntry.seq)
        ).all()
    assert (verdict.entries, verdict.intact) == (251, True)
    assert kept[0] == (changes[0].entity_id, changes[0].subject_id, None, {"value": "1"})
    assert kept[-1] == ("m-1", "s-1", {"value": "3"}, {"value": "4"})
    database.dispose()
