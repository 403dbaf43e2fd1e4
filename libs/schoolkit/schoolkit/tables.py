"""The kit's own tables, present in every service's database.

Each service's first Alembic migration creates them with `create_kit_tables()`; tests
and the benchmark use `kit_metadata.create_all()`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import op
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
)

kit_metadata = MetaData()


def utcnow() -> datetime:
    return datetime.now(UTC)


# Events waiting for the relay. A row is deleted once the broker confirms it, so personal
# data in an event does not outlive its delivery.
outbox = Table(
    "outbox",
    kit_metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(120), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
)

# The relays LISTEN on this channel; a process NOTIFYs it after committing outbox rows
# (schoolkit.wakeup). Before that, a trigger on the outbox sent the NOTIFY from inside the
# writing transaction, which serialised every service's commits: migrations drop it.
OUTBOX_CHANNEL = "schoolkit_outbox"
_DROP_OUTBOX_TRIGGER = (
    "DROP TRIGGER IF EXISTS outbox_notify ON outbox",
    "DROP FUNCTION IF EXISTS schoolkit_outbox_notify()",
)
_CREATE_OUTBOX_TRIGGER = (
    "CREATE OR REPLACE FUNCTION schoolkit_outbox_notify() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('" + OUTBOX_CHANNEL + "', ''); "
    "RETURN NULL; END $$",
    "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION schoolkit_outbox_notify()",
)

# Ids of events already applied: a redelivered event is acknowledged and skipped.
inbox = Table(
    "inbox",
    kit_metadata,
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(120), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, default=utcnow),
)
Index("ix_inbox_received_at", inbox.c.received_at)

# Opaque ids of erased people, per school: later events about them are dropped. An erasure
# buries its subjects in its own school only, so a request of one school cannot silence
# another school's events about the same id. Rows buried before tombstones had a school
# hold EVERY_SCHOOL and keep counting for every school.
EVERY_SCHOOL = "*"
tombstones = Table(
    "tombstones",
    kit_metadata,
    Column("subject_id", String(64), primary_key=True),
    Column("school_id", String(64), primary_key=True, server_default=EVERY_SCHOOL),
    Column("erasure_id", String(64), nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=False, default=utcnow),
)

# The newest version seen of each entity, so a late, older update is ignored.
entity_versions = Table(
    "entity_versions",
    kit_metadata,
    Column("entity_type", String(60), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Users blocked and sessions revoked by identity: their still-valid tokens are refused.
denied_users = Table(
    "denied_users",
    kit_metadata,
    Column("user_id", String(64), primary_key=True),
    Column("reason", String(60), nullable=True),
    Column("denied_at", DateTime(timezone=True), nullable=False, default=utcnow),
)

revoked_sessions = Table(
    "revoked_sessions",
    kit_metadata,
    Column("session_id", String(64), primary_key=True),
    Column("user_id", String(64), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False, default=utcnow),
)


def create_kit_tables() -> None:
    """Create the kit's tables from inside an Alembic migration."""
    kit_metadata.create_all(op.get_bind())


def drop_kit_tables() -> None:
    kit_metadata.drop_all(op.get_bind())


def scope_tombstones_by_school() -> None:
    """From inside an Alembic migration: give the tombstones a school.

    The table is rebuilt (its primary key grows a column, which SQLite cannot alter);
    the ids buried so far stay buried in every school. A database whose first migration
    already created today's table is left alone.
    """
    bind = op.get_bind()
    if "school_id" in {column["name"] for column in inspect(bind).get_columns("tombstones")}:
        return
    old = Table("tombstones", MetaData(), autoload_with=bind)
    rows = [dict(row._mapping) for row in bind.execute(old.select())]
    old.drop(bind)
    tombstones.create(bind)
    if rows:
        bind.execute(tombstones.insert(), [{**row, "school_id": EVERY_SCHOOL} for row in rows])


def unscope_tombstones() -> None:
    """The downgrade of `scope_tombstones_by_school`: one row per id, the earliest kept."""
    bind = op.get_bind()
    rows = bind.execute(tombstones.select().order_by(tombstones.c.erased_at)).mappings().all()
    tombstones.drop(bind)
    unscoped = Table(
        "tombstones",
        MetaData(),
        Column("subject_id", String(64), primary_key=True),
        Column("erasure_id", String(64), nullable=True),
        Column("erased_at", DateTime(timezone=True), nullable=False, default=utcnow),
    )
    unscoped.create(bind)
    first: dict[str, dict[str, object]] = {}
    for row in rows:
        first.setdefault(
            row["subject_id"], {key: row[key] for key in ("subject_id", "erasure_id", "erased_at")}
        )
    if first:
        bind.execute(unscoped.insert(), list(first.values()))


def drop_outbox_trigger() -> None:
    """From inside an Alembic migration: the relays are now woken after commit instead."""
    _execute_on_postgres(_DROP_OUTBOX_TRIGGER)


def restore_outbox_trigger() -> None:
    """The downgrade of `drop_outbox_trigger`."""
    _execute_on_postgres(_CREATE_OUTBOX_TRIGGER)


def _execute_on_postgres(statements: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements:
            op.execute(statement)
