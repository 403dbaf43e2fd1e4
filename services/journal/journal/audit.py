"""The audit chain of journal data (R-SEC-4, R-JRN-11).

Each change appends one entry per school: time, author, action, entity, and a digest of
its before/after values; the entry's hash covers those and the previous entry's hash.
The values themselves sit in `audit_values`, outside the chain, so an erasure deletes
them while the chain stays verifiable.

Appending reads the school's head row FOR UPDATE, which serialises writers of one school
(and only of one school). So that they queue for as short a time as possible, `record`
only notes the change in the transaction; the entries are linked and written just
before the transaction commits (a `before_commit` hook), and the head's lock is held
only for those few statements and the commit itself. A rolled-back transaction leaves
no entry, as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from journal.models import AuditEntry, AuditHead, AuditValues, new_uuid
from schoolkit.auth import Principal

GENESIS = "0" * 64


@dataclass(frozen=True)
class Verdict:
    entries: int
    first_broken_seq: int | None

    @property
    def intact(self) -> bool:
        return self.first_broken_seq is None


PENDING = "journal_audit_pending"


@dataclass(frozen=True)
class Change:
    """One change of journal data, noted in the transaction until it commits."""

    action: str
    entity: str
    entity_id: str
    subject_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class _Noted:
    school_id: str
    author_id: str
    at: str
    change: Change
    # The (nested) transaction the change was made in: if it rolls back, so does this.
    transaction: SessionTransaction | None


def record(  # noqa: PLR0917 - one call per change reads best with the change's facts in order
    session: Session,
    school_id: str,
    author_id: str,
    action: str,
    entity: str,
    entity_id: str,
    *,
    subject_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    change = Change(action, entity, entity_id, subject_id, before, after)
    record_many(session, school_id, author_id, [change])


def record_by(
    session: Session,
    caller: Principal,
    action: str,
    entity: str,
    entity_id: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    subject_id: str | None = None,
) -> None:
    """Record the caller's change; dates and ids in the values are kept as their text."""
    record(
        session,
        caller.school_id,
        caller.user_id,
        action,
        entity,
        entity_id,
        subject_id=subject_id,
        before=as_json(before),
        after=as_json(after),
    )


def as_json(values: dict[str, Any] | None) -> dict[str, Any] | None:
    # The values go to a JSON column and into the digest: dates and UUIDs become text.
    return None if values is None else json.loads(json.dumps(values, default=str))


def record_many(session: Session, school_id: str, author_id: str, changes: list[Change]) -> None:
    """Note changes of one author; they join the chain when the transaction commits."""
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending: list[_Noted] = session.info.setdefault(PENDING, [])
    pending.extend(_Noted(school_id, author_id, at, change, transaction) for change in changes)


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending: list[_Noted] = session.info.pop(PENDING, [])
    for school_id in sorted({noted.school_id for noted in pending}):
        _append(session, school_id, [noted for noted in pending if noted.school_id == school_id])


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint or the transaction rolled back: its changes never happened."""
    pending: list[_Noted] = session.info.get(PENDING, [])
    kept = [noted for noted in pending if not _within(noted.transaction, previous_transaction)]
    if kept:
        session.info[PENDING] = kept
    else:
        session.info.pop(PENDING, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _append(session: Session, school_id: str, noted: list[_Noted]) -> None:
    """Link the noted changes to the school's chain. Between locking the head and the
    commit every writer of the school waits, so that span is two statements on
    PostgreSQL: the locking read and one write of the entries, their values and the head."""
    seq, previous_hash = _locked_head(session, school_id)
    links = []
    for item in noted:
        seq += 1
        link = _link(school_id, seq, item, previous_hash)
        previous_hash = link["hash"]
        links.append(link)
    if session.get_bind().dialect.name == "postgresql":
        parameters = {"links": json.dumps(links), "seq": seq, "hash": previous_hash}
        session.execute(_WRITE_LINKS_POSTGRESQL, {"school_id": school_id, **parameters})
        return
    entry_columns = [column.name for column in _ENTRIES.columns]
    session.execute(insert(_ENTRIES), [_only(link, entry_columns) for link in links])
    values_columns = [column.name for column in _VALUES.columns]
    session.execute(insert(_VALUES), [_only(link, values_columns) for link in links])
    session.execute(_MOVE_HEAD, {"head_school_id": school_id, "seq": seq, "hash": previous_hash})


def _link(school_id: str, seq: int, item: _Noted, previous_hash: str) -> dict[str, Any]:
    """One entry of the chain with its values, as the columns of both tables."""
    change = item.change
    link: dict[str, Any] = {
        "entry_id": new_uuid(),
        "school_id": school_id,
        "seq": seq,
        "at": item.at,
        "author_id": item.author_id,
        "action": change.action,
        "entity": change.entity,
        "entity_id": change.entity_id,
        "values_digest": _digest({"before": change.before, "after": change.after}),
        "previous_hash": previous_hash,
    }
    link["hash"] = _hash_of(link)
    link.update(subject_id=change.subject_id, before=change.before, after=change.after)
    return link


def _only(values: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: values[name] for name in names}


_ENTRIES, _VALUES, _HEADS = AuditEntry.__table__, AuditValues.__table__, AuditHead.__table__
_LOCK_HEAD = (
    select(_HEADS.c.seq, _HEADS.c.hash)
    .where(_HEADS.c.school_id == bindparam("head_school_id"))
    .with_for_update()
)
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.school_id == bindparam("head_school_id"))
    .values(seq=bindparam("seq"), hash=bindparam("hash"))
)
# The entries, their values and the head in one statement, whatever their number: the
# links travel as one JSON array, unpacked into rows by json_to_recordset.
_WRITE_LINKS_POSTGRESQL = text(
    """
    WITH link AS (
        SELECT * FROM json_to_recordset(CAST(:links AS json)) AS link(
            entry_id varchar, seq integer, at varchar, author_id varchar, action varchar,
            entity varchar, entity_id varchar, values_digest varchar, previous_hash varchar,
            hash varchar, subject_id varchar, before json, after json)
    ), entries AS (
        INSERT INTO audit_entries (entry_id, school_id, seq, at, author_id, action, entity,
                                   entity_id, values_digest, previous_hash, hash)
        SELECT entry_id, :school_id, seq, at, author_id, action, entity,
               entity_id, values_digest, previous_hash, hash
        FROM link
    ), kept_values AS (
        INSERT INTO audit_values (entry_id, subject_id, before, after)
        SELECT entry_id, subject_id, before, after FROM link
    )
    UPDATE audit_heads SET seq = :seq, hash = :hash WHERE school_id = :school_id
    """
)


def _locked_head(session: Session, school_id: str) -> tuple[int, str]:
    """The school's head (seq, hash), locked. The first writers of a school create it with
    ON CONFLICT DO NOTHING, so that they wait for each other instead of one failing on the key."""
    head = session.execute(_LOCK_HEAD, {"head_school_id": school_id}).first()
    if head is None:
        dialect = session.get_bind().dialect.name
        insert_or_skip = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert_or_skip(_HEADS)
            .values(school_id=school_id, seq=0, hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["school_id"])
        )
        head = session.execute(_LOCK_HEAD, {"head_school_id": school_id}).one()
    return head.seq, head.hash


def verify(session: Session, school_id: str) -> Verdict:
    """Walk the school's chain; the first entry whose link or hash does not hold."""
    query = select(_ENTRIES).where(_ENTRIES.c.school_id == school_id).order_by(_ENTRIES.c.seq)
    previous_hash, expected_seq, count = GENESIS, 1, 0
    for entry in session.execute(query).mappings():
        count += 1
        if entry["seq"] != expected_seq or entry["previous_hash"] != previous_hash:
            return Verdict(count, expected_seq)
        if _hash_of(entry) != entry["hash"]:
            return Verdict(count, entry["seq"])
        previous_hash, expected_seq = entry["hash"], entry["seq"] + 1
    head = session.get(AuditHead, school_id)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != previous_hash):
        return Verdict(count, expected_seq)  # entries were cut from the end
    return Verdict(count, None)


def _digest(values: dict[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_CHAINED = (
    "school_id",
    "seq",
    "at",
    "author_id",
    "action",
    "entity",
    "entity_id",
    "values_digest",
    "previous_hash",
)


def _hash_of(entry: Mapping[str, Any]) -> str:
    fields = [str(entry[name]) for name in _CHAINED]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
