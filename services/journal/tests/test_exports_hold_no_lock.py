"""The outage of issue 19: one CSV export kept the journal's database write-locked, and
every write after it waited 10 s and answered 500 "database is locked"; on PostgreSQL the
same code left a pooled connection idle in an open transaction. An export now reads in a
short snapshot and streams after it has ended, so the next write goes through at once."""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import create_engine, text

from schoolkit.testing import TokenIssuer

from .school_on_postgres import Builder, journal_on_postgres, small_school

DATASETS = ("subjects", "rosters", "staff", "lessons", "marks")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.mark.parametrize("dataset", DATASETS)
def test_a_write_a_moment_after_an_export_goes_through_and_nothing_stays_open(
    database_url: str, token_issuer: TokenIssuer, dataset: str
) -> None:
    build = Builder(journal_on_postgres(database_url, token_issuer), token_issuer)
    small_school(build)

    export = build.get(f"/exports/{dataset}")
    assert export.status_code == 200
    assert export.data.startswith("\ufeff".encode())

    started = time.monotonic()
    written = build.client.post(
        "/api/journal/v1/subjects", json={"name": "Физика"}, headers=build.deputy
    )
    assert written.status_code == 201, written.json
    assert time.monotonic() - started < 2
    assert transactions_left_open(database_url) == 0


def transactions_left_open(url: str) -> int:
    """Transactions some connection holds open: on SQLite, whether the write lock is taken."""
    if url.startswith("sqlite"):
        probe = sqlite3.connect(url.split(":///", 1)[1], timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return 0
        except sqlite3.OperationalError:
            return 1
        finally:
            probe.close()
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%'"
            )
        )
    engine.dispose()
    return int(count or 0)
