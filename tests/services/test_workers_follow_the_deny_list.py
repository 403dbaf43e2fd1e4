"""Each service's real worker process starts, joins the bus and follows identity's deny-list.

A block published by identity reaches every other service's worker, which records it
in its own database, where the kit's token verification reads it (R-IDN-4, R-IDN-6).
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pika
import pytest
from sqlalchemy import select

from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import project_root
from schoolkit.tables import denied_users
from schoolkit.testing import SERVICES, Bus, free_port
from schoolkit.topology import declare_exchanges

CONTRACTS = load_contracts(project_root() / "contracts")


def _publish_as_identity(bus: Bus, event: Event) -> None:
    CONTRACTS.validate(event.to_dict())
    channel = bus.channel()
    declare_exchanges(channel, bus.namespace)  # as identity's own worker does at its start
    channel.confirm_delivery()
    channel.basic_publish(
        f"{bus.namespace}.events",
        event.type,
        event.to_json().encode(),
        properties=pika.BasicProperties(
            message_id=event.id, type=event.type, content_type="application/json", delivery_mode=2
        ),
        mandatory=True,
    )
    channel.connection.close()


def _blocked_event(user_id: str) -> Event:
    example = CONTRACTS.example("identity.account.blocked")
    data = {**example["data"], "user_id": user_id}
    return Event(type="identity.account.blocked", data=data, school_id="school-1", subject=user_id)


def _denied(database: Database, user_id: str) -> bool:
    with database.sessions() as session:
        found = session.execute(select(denied_users).where(denied_users.c.user_id == user_id))
        return found.first() is not None


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "identity"])
def test_a_block_published_by_identity_reaches_the_workers_database(
    service: str, bus: Bus, postgres_url: str
) -> None:
    upgrade(service, postgres_url)
    command = str(Path(sys.executable).parent / f"{service}-worker")
    metrics_port = free_port()
    environment = {
        **bus.environment(service, postgres_url),
        "WORKER_METRICS_PORT": str(metrics_port),
    }
    worker = subprocess.Popen([command], env=environment)
    database = Database(postgres_url)
    user_id = str(uuid.uuid4())
    try:
        deadline = time.monotonic() + 30
        published = False
        while time.monotonic() < deadline and not _denied(database, user_id):
            if not published:
                try:
                    _publish_as_identity(bus, _blocked_event(user_id))
                    published = True
                except pika.exceptions.UnroutableError:
                    pass  # the worker has not declared its queues yet
            time.sleep(0.1)
        assert _denied(database, user_id), f"{service} never recorded the block"
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as answer:
            exposed = answer.read().decode()
        assert (
            'events_consumed_total{event_type="identity.account.blocked",outcome="applied"} 1.0'
            in exposed
        )
    finally:
        worker.terminate()
        assert worker.wait(timeout=20) == 0, f"{service}-worker did not stop cleanly on SIGTERM"
        database.dispose()
