"""Relays are woken after a commit that wrote to the outbox, without a NOTIFY inside it;
their own commits are fast, the services' stay durable."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.outbox import default_contracts, publish
from schoolkit.publisher import ConfirmingPublisher
from schoolkit.relay import Relay
from schoolkit.tables import OUTBOX_CHANNEL, kit_metadata

WAKE_TIMEOUT = 5.0  # generous: a wake-up comes within milliseconds, this only bounds a failure


@pytest.fixture
def database(postgres_database_url: str) -> Iterator[Database]:
    database = Database(postgres_database_url)
    kit_metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def relay_side(postgres_database_url: str) -> Iterator[psycopg.Connection]:
    """A connection listening as the relays do."""
    libpq_url = postgres_database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq_url, autocommit=True) as connection:
        connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
        yield connection


def an_event() -> Event:
    example = default_contracts().example("journal.mark.recorded")
    return Event(
        type="journal.mark.recorded",
        data=example["data"],
        school_id=example["school_id"],
        subject=example["subject"],
    )


def wake_ups(connection: psycopg.Connection, timeout: float) -> int:
    return sum(1 for _ in connection.notifies(timeout=timeout, stop_after=1))


def test_a_commit_that_published_wakes_the_relays(
    database: Database, relay_side: psycopg.Connection
) -> None:
    with database.transaction() as session:
        publish(session, an_event())

    assert wake_ups(relay_side, WAKE_TIMEOUT) >= 1


def test_a_rolled_back_publication_and_a_commit_without_one_wake_nobody(
    database: Database, relay_side: psycopg.Connection
) -> None:
    with database.sessions() as session:
        publish(session, an_event())
        session.rollback()
    with database.transaction() as session:
        session.execute(text("SELECT 1"))

    assert wake_ups(relay_side, 0.5) == 0


def test_the_writing_transaction_itself_sends_no_notify(database: Database) -> None:
    """Its commit must not take PostgreSQL's notification lock: no trigger on the outbox."""
    with database.sessions() as session:
        triggers = session.execute(
            text("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'outbox'::regclass")
        ).scalar_one()
    assert triggers == 0


def test_the_relays_fast_commits_leave_the_services_own_commits_durable(
    database: Database,
) -> None:
    """The relay may lose its last commit in a crash (it publishes again); a consumer
    acknowledging after a commit that did not reach the disk could lose an event."""
    relay = Relay(database, ConfirmingPublisher("amqp://guest:guest@127.0.0.1:1/", "unused"))
    assert relay.drain_once() == 0
    with database.sessions() as session:
        assert session.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
