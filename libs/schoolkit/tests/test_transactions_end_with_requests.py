"""No request holds a database transaction beyond its own work (issue 19): a file is read
in a snapshot and streamed after it; a lock held elsewhere is a quick 503, never a long
wait and a 500; and the test client fails any response that outlives its transaction."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from flask import Blueprint, Flask, Response, stream_with_context
from sqlalchemy import insert, select, text

from schoolkit.db import Database
from schoolkit.settings import Settings
from schoolkit.tables import kit_metadata, tombstones
from schoolkit.web import create_service_app, db_session, file_response, snapshot

LOCK_WAIT = 0.5


def files_blueprint() -> Blueprint:
    blueprint = Blueprint("files", __name__, url_prefix="/v1")

    @blueprint.get("/leaky.csv")
    def leaky() -> Response:
        # What the journal's export did: the rows are read while the body streams, after
        # the teardown closed the request's session, which opens a transaction nobody ends.
        session = db_session()

        def rows() -> Iterator[str]:
            for subject_id in session.scalars(select(tombstones.c.subject_id)):
                yield f"{subject_id}\n"

        return Response(stream_with_context(rows()), mimetype="text/csv")

    @blueprint.get("/buried.csv")
    def buried() -> Response:
        with snapshot() as session:
            ids = session.scalars(select(tombstones.c.subject_id)).all()
        return file_response("".join(f"{i}\n" for i in ids).encode(), "text/csv", "buried.csv")

    @blueprint.post("/buried/<subject_id>")
    def bury(subject_id: str) -> Any:
        session = db_session()
        session.execute(insert(tombstones).values(subject_id=subject_id))
        session.commit()
        return {"subject_id": subject_id}, 201

    @blueprint.get("/buried")
    def list_buried() -> Any:
        # An ordinary view: the request's session, a GET.
        ids = db_session().scalars(select(tombstones.c.subject_id)).all()
        return {"subject_ids": list(ids)}

    @blueprint.get("/slow")
    def slow() -> Any:
        db_session().execute(text("SELECT pg_sleep(3)"))
        return {"slept": True}

    return blueprint


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    url = str(request.getfixturevalue(f"{request.param}_url"))
    database = Database(url)
    kit_metadata.create_all(database.engine)
    database.dispose()
    return url


def files_app(database_url: str, **overrides: Any) -> Flask:
    settings = Settings.from_env(
        "demo", database_url=database_url, db_lock_timeout_seconds=LOCK_WAIT, **overrides
    )
    return create_service_app(settings, blueprints=[files_blueprint()])


@pytest.fixture
def held_lock(database_url: str) -> Iterator[Callable[[], None]]:
    """Takes the lock a writer needs from outside the app, as a stuck transaction would."""
    held: list[Any] = []

    def hold() -> None:
        if database_url.startswith("sqlite"):
            connection = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
        else:
            plain = database_url.replace("postgresql+psycopg://", "postgresql://")
            connection = psycopg.connect(plain)
            connection.execute("LOCK TABLE tombstones IN EXCLUSIVE MODE")
        held.append(connection)

    yield hold
    for connection in held:
        connection.rollback()
        connection.close()


def test_a_response_that_reads_after_its_request_ended_fails_its_test(database_url: str) -> None:
    client = files_app(database_url).test_client()

    with pytest.raises(AssertionError, match="left a database connection checked out"):
        client.get("/api/demo/v1/leaky.csv")


def test_a_file_read_in_a_snapshot_lets_the_next_write_through_at_once(database_url: str) -> None:
    client = files_app(database_url).test_client()
    client.post("/api/demo/v1/buried/s-1")

    assert client.get("/api/demo/v1/buried.csv").data == b"s-1\n"

    started = time.monotonic()
    assert client.post("/api/demo/v1/buried/s-2").status_code == 201
    assert time.monotonic() - started < LOCK_WAIT


def test_a_write_that_meets_a_held_lock_is_a_quick_503_saying_when_to_retry(
    database_url: str, held_lock: Callable[[], None]
) -> None:
    client = files_app(database_url).test_client()
    held_lock()

    started = time.monotonic()
    answer = client.post("/api/demo/v1/buried/s-1")

    assert time.monotonic() - started < LOCK_WAIT + 2
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.get_json()["error"]["code"] == "database_busy"


def test_on_sqlite_a_snapshot_reads_while_a_writer_holds_the_lock(
    sqlite_url: str, tmp_path: Any
) -> None:
    database = Database(sqlite_url)
    kit_metadata.create_all(database.engine)
    with database.transaction() as session:
        session.execute(insert(tombstones).values(subject_id="s-1"))
    client = files_app(sqlite_url).test_client()
    writer = sqlite3.connect(sqlite_url.split(":///", 1)[1], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        answer = client.get("/api/demo/v1/buried.csv")
    finally:
        writer.rollback()
        writer.close()
        database.dispose()

    assert (answer.status_code, answer.data) == (200, b"s-1\n")


def test_on_sqlite_a_get_reads_while_a_writer_holds_the_lock(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    kit_metadata.create_all(database.engine)
    database.dispose()
    client = files_app(sqlite_url).test_client()
    client.post("/api/demo/v1/buried/s-1")
    writer = sqlite3.connect(sqlite_url.split(":///", 1)[1], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        answer = client.get("/api/demo/v1/buried")
    finally:
        writer.rollback()
        writer.close()

    assert (answer.status_code, answer.get_json()) == (200, {"subject_ids": ["s-1"]})


def test_on_postgres_a_runaway_statement_is_cut_short_as_a_503(postgres_url: str) -> None:
    client = files_app(postgres_url, db_statement_timeout_seconds=0.5).test_client()

    started = time.monotonic()
    answer = client.get("/api/demo/v1/slow")

    assert answer.status_code == 503
    assert time.monotonic() - started < 2
