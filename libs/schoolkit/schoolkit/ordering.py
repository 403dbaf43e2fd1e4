"""Entity versions: a late event carrying an older version must not overwrite a newer one."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from schoolkit.tables import entity_versions

_UPSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def accept_version(session: Session, entity_type: str, entity_id: str, version: int) -> bool:
    """Record `version` as the newest seen and return True, or return False if it is stale.

    Call it in the handler's transaction before applying an update: when it says False
    the update is older than what is already applied and must be ignored.
    """
    upsert = _UPSERTS.get(session.get_bind().dialect.name)
    if upsert is None:
        return _accept_in_two_steps(session, entity_type, entity_id, version)
    # One round trip on every event a consumer applies: the row comes back only when it
    # was inserted or raised, i.e. when this version is newer than any seen.
    statement = upsert(entity_versions).values(
        entity_type=entity_type, entity_id=entity_id, version=version
    )
    statement = statement.on_conflict_do_update(
        index_elements=[entity_versions.c.entity_type, entity_versions.c.entity_id],
        set_={"version": statement.excluded.version},
        where=entity_versions.c.version < statement.excluded.version,
    ).returning(entity_versions.c.version)
    return session.execute(statement).first() is not None


def _accept_in_two_steps(session: Session, entity_type: str, entity_id: str, version: int) -> bool:
    key = (entity_versions.c.entity_type == entity_type) & (
        entity_versions.c.entity_id == entity_id
    )
    current = session.execute(select(entity_versions.c.version).where(key)).scalar_one_or_none()
    if current is None:
        session.execute(
            insert(entity_versions).values(
                entity_type=entity_type, entity_id=entity_id, version=version
            )
        )
        return True
    if version <= current:
        return False
    session.execute(update(entity_versions).where(key).values(version=version))
    return True


def forget_versions(session: Session, entity_type: str, entity_ids: list[str]) -> int:
    """Drop the version records of erased entities; returns how many were removed."""
    if not entity_ids:
        return 0
    result = session.execute(
        delete(entity_versions).where(
            (entity_versions.c.entity_type == entity_type)
            & entity_versions.c.entity_id.in_(entity_ids)
        )
    )
    return result.rowcount or 0
