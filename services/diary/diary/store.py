"""One-statement upserts: a projection writes each row with one round trip, on PostgreSQL and SQLite.

`session.merge` would first SELECT the row; a diary applies about a hundred events per
second per school at peak, so the round trip it saves is most of a handler's time.
Each statement is built once per table, dialect and set of columns and then run with
the row's values as parameters: building and keying an insert costs more Python time
than PostgreSQL needs to run it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def _insert(session: Session, model: Any) -> Any:
    return _INSERTS[session.get_bind().dialect.name](_table(model))


def put(session: Session, model: Any, **values: Any) -> None:
    """Insert the row, or overwrite every given column of the row with the same key."""
    dialect = session.get_bind().dialect.name
    session.execute(_upsert(dialect, _table(model), tuple(values)), values)


@cache
def _upsert(dialect: str, table: Table, columns: tuple[str, ...]) -> Any:
    keys = [column.name for column in table.primary_key]
    statement = _INSERTS[dialect](table)
    changed = {name: statement.excluded[name] for name in columns if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)


def put_many(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """`put` for rows that all give the same columns, in one executemany."""
    if rows:
        dialect = session.get_bind().dialect.name
        session.execute(_upsert(dialect, _table(model), tuple(rows[0])), rows)


def put_new(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the rows that are not there yet; leave the others alone."""
    if rows:
        session.execute(_insert(session, model).values(rows).on_conflict_do_nothing())


def increment(session: Session, model: Any, column: str, **key: Any) -> None:
    """Add one to `column` of the row with this key, creating it at 1."""
    dialect = session.get_bind().dialect.name
    session.execute(_increment(dialect, _table(model), column, tuple(key)), {**key, column: 1})


@cache
def _increment(dialect: str, table: Table, column: str, keys: tuple[str, ...]) -> Any:
    statement = _INSERTS[dialect](table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={column: table.c[column] + 1}
    )
