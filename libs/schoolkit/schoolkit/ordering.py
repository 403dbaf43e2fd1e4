"""Entity versions: a late event carrying an older version must not overwrite a newer one."""

from __future__ import annotations

from functools import cache
from typing import Any

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
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        return _accept_in_two_steps(session, entity_type, entity_id, version)
    values = {"entity_type": entity_type, "entity_id": entity_id, "version": version}
    return session.execute(_newer_version_upsert(dialect), values).first() is not None


@cache
def _newer_version_upsert(dialect: str) -> Any:
    """One round trip on every event a consumer applies, built once.

    The row comes back only when it was inserted or raised, i.e. when the version is newer
    than any seen.
    """
    statement = _UPSERTS[dialect](entity_versions)
    return statement.on_conflict_do_update(
        index_elements=[entity_versions.c.entity_type, entity_versions.c.entity_id],
        set_={"version": statement.excluded.version},
        where=entity_versions.c.version < statement.excluded.version,
    ).returning(entity_versions.c.version)


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


def accept_current_version(
    session: Session, entity_type: str, entity_id: str, version: int
) -> bool:
    """Like `accept_version`, but a version equal to the newest seen is accepted too.

    For snapshots of current state (`*.snapshot` events): an entity's event at version n and
    its snapshot at version n describe the same state, so applying it again is harmless,
    and it is what a consumer needs when it recorded the version but dropped the data
    (the diary's consent gate) or erased the data and kept the version.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        current = session.execute(
            select(entity_versions.c.version).where(
                (entity_versions.c.entity_type == entity_type)
                & (entity_versions.c.entity_id == entity_id)
            )
        ).scalar_one_or_none()
        if current is not None and version == current:
            return True
        return _accept_in_two_steps(session, entity_type, entity_id, version)
    values = {"entity_type": entity_type, "entity_id": entity_id, "version": version}
    return session.execute(_same_or_newer_version_upsert(dialect), values).first() is not None


@cache
def _same_or_newer_version_upsert(dialect: str) -> Any:
    statement = _UPSERTS[dialect](entity_versions)
    return statement.on_conflict_do_update(
        index_elements=[entity_versions.c.entity_type, entity_versions.c.entity_id],
        set_={"version": statement.excluded.version},
        where=entity_versions.c.version <= statement.excluded.version,
    ).returning(entity_versions.c.version)


def accept_current_versions(
    session: Session, entity_type: str, versions: dict[str, int], chunk: int = 1000
) -> set[str]:
    """`accept_current_version` for many entities of one type: the ids accepted.

    One statement per `chunk` entities (a snapshot holds a school year's marks), where one
    per entity would cost a round trip each.
    """
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        return {
            entity_id
            for entity_id, version in versions.items()
            if accept_current_version(session, entity_type, entity_id, version)
        }
    rows = [
        {"entity_type": entity_type, "entity_id": entity_id, "version": version}
        for entity_id, version in versions.items()
    ]
    accepted: set[str] = set()
    for start in range(0, len(rows), chunk):
        statement = _UPSERTS[dialect](entity_versions).values(rows[start : start + chunk])
        statement = statement.on_conflict_do_update(
            index_elements=[entity_versions.c.entity_type, entity_versions.c.entity_id],
            set_={"version": statement.excluded.version},
            where=entity_versions.c.version <= statement.excluded.version,
        ).returning(entity_versions.c.entity_id)
        accepted.update(session.execute(statement).scalars())
    return accepted
