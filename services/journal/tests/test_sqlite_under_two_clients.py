"""The default `make up` keeps the journal on SQLite. Issue 19's outside tester broke it
with two clients at once: one reading and exporting, one writing. Both now go on for some
seconds, with the worker's relay draining the outbox into the real broker beside them:
every answer a success, never a 500 or "database is locked", and the relay never stuck."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from schoolkit.db import Database
from schoolkit.publisher import ConfirmingPublisher
from schoolkit.relay import Relay
from schoolkit.testing import Bus, TokenIssuer
from schoolkit.topology import declare_exchanges

from .school_on_postgres import Builder, journal_on_postgres, small_school

SECONDS = 4.0


def test_a_reader_exporting_and_a_writer_both_go_on_on_sqlite(
    sqlite_url: str, token_issuer: TokenIssuer, bus: Bus
) -> None:
    build = Builder(journal_on_postgres(sqlite_url, token_issuer), token_issuer)
    small_school(build)
    app = build.client.application
    reader, writer = app.test_client(), app.test_client()
    statuses: dict[str, Counter[int]] = {"reader": Counter(), "writer": Counter()}
    locked: list[str] = []
    relay_errors: list[str] = []
    relay_database = Database(sqlite_url)
    channel = bus.channel()
    declare_exchanges(channel, bus.namespace)
    channel.connection.close()
    publisher = ConfirmingPublisher(bus.amqp_url, f"{bus.namespace}.events")
    relay = Relay(relay_database, publisher)

    def read_and_export(step: int) -> Any:
        path = ("/exports/marks", "/exports/lessons", "/subjects")[step % 3]
        return reader.get(f"/api/journal/v1{path}", headers=build.deputy)

    def write(step: int) -> Any:
        body = {"name": f"Кружок {step}"}
        return writer.post("/api/journal/v1/subjects", json=body, headers=build.deputy)

    def hammer(name: str, call: Callable[[int], Any]) -> None:
        deadline, step = time.monotonic() + SECONDS, 0
        while time.monotonic() < deadline:
            answer = call(step)
            statuses[name][answer.status_code] += 1
            if b"database is locked" in answer.data:
                locked.append(name)
            step += 1

    def relay_drains() -> None:
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            try:
                relay.drain_once()
            except Exception as error:  # the test reports whatever stopped the relay
                relay_errors.append(str(error))
            time.sleep(0.02)

    threads = [
        threading.Thread(target=hammer, args=("reader", read_and_export)),
        threading.Thread(target=hammer, args=("writer", write)),
        threading.Thread(target=relay_drains),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 30)
    publisher.close()
    relay_database.dispose()

    assert set(statuses["reader"]) == {200}, statuses
    assert set(statuses["writer"]) == {201}, statuses
    assert statuses["reader"].total() > 10 and statuses["writer"].total() > 10, statuses
    assert not locked
    assert not relay_errors
