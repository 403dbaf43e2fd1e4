"""Sealed records and keys name nobody: filed under a keyed reference of the person's id,
with the event's type and time only inside the seal (issue 18 §3).

Needs ARCHIVE_MASTER_KEY, as the archive itself does: each key is re-wrapped under its
reference, and each record re-sealed with the reference bound in.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from archive.keys import master_key_from_env, reference, seal, unseal
from archive.vault import derive

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

keys = sa.table(
    "subject_keys", sa.column("key_id", sa.String), sa.column("wrapped_key", sa.LargeBinary)
)
records = sa.table(
    "archived_records",
    sa.column("id", sa.String),
    sa.column("key_id", sa.String),
    sa.column("sealed", sa.LargeBinary),
    sa.column("event_type", sa.String),
    sa.column("occurred_at", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("archived_records") as batch:
        batch.alter_column("event_type", existing_type=sa.String(120), nullable=True)
        batch.alter_column("occurred_at", existing_type=sa.String(40), nullable=True)
    connection = op.get_bind()
    if connection.execute(sa.select(sa.func.count()).select_from(keys)).scalar():
        _refile(connection, master_key_from_env())
    op.execute(records.update().values(event_type=None, occurred_at=None))


def _refile(connection: sa.Connection, master_key: bytes) -> None:
    reference_key = derive(master_key, "school-archive subject key reference v1")
    for key_id, wrapped in connection.execute(sa.select(keys.c.key_id, keys.c.wrapped_key)).all():
        if key_id.startswith("k:"):
            continue
        ref = reference(reference_key, key_id)
        data_key = unseal(master_key, wrapped, key_id.encode())
        _reseal_records(connection, data_key, key_id, ref)
        connection.execute(
            keys.update()
            .where(keys.c.key_id == key_id)
            .values(key_id=ref, wrapped_key=seal(master_key, data_key, ref.encode()))
        )


def _reseal_records(connection: sa.Connection, data_key: bytes, key_id: str, ref: str) -> None:
    found = connection.execute(
        sa.select(records.c.id, records.c.sealed).where(records.c.key_id == key_id)
    ).all()
    for record_id, sealed in found:
        opened = unseal(data_key, sealed, f"{record_id}|{key_id}".encode())
        connection.execute(
            records.update()
            .where(records.c.id == record_id)
            .values(key_id=ref, sealed=seal(data_key, opened, f"{record_id}|{ref}".encode()))
        )


def downgrade() -> None:
    raise NotImplementedError("references cannot be turned back into ids")
