"""What an operator sees: the outbox growing on /metrics, and parked messages at the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from test_delivery import publish_raw_json

from conftest import CONTRACTS, Diary, mark_event, prepared_database, wait_until
from schoolkit.outbox import publish
from schoolkit.testing import Bus, free_port

BIN = Path(sys.executable).parent


def _scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            return answer.read().decode()
    except OSError:
        return ""


def _gauge(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_while_the_broker_is_away_the_worker_reports_the_outbox_growing(
    bus: Bus, journal_url: str
) -> None:
    database = prepared_database(journal_url)
    with database.transaction() as session:
        for _ in range(7):
            publish(session, mark_event(), CONTRACTS)
    port = free_port()
    environment = bus.environment("journal", journal_url)
    environment.update(
        AMQP_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/", WORKER_METRICS_PORT=str(port)
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "schoolkit.worker",
            "--service",
            "journal",
            "--handlers",
            "schoolkit.testing:NO_HANDLERS",
        ],
        env=environment,
    )
    try:
        wait_until(
            lambda: _gauge(_scrape(port), "outbox_backlog") == 7.0,
            timeout=30,
            what="outbox_backlog 7 on the worker's /metrics",
        )
        age = _gauge(_scrape(port), "outbox_oldest_age_seconds")
        assert age is not None and age >= 0
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        database.dispose()


def test_an_operator_lists_shows_replays_and_purges_parked_messages(bus: Bus, diary: Diary) -> None:
    environment = {**os.environ, "AMQP_URL": bus.amqp_url, "BUS_NAMESPACE": bus.namespace}
    parking = [str(BIN / "schoolkit-parking"), "--service", "diary"]

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*parking, *arguments],
            check=False,
            env=environment,
            capture_output=True,
            text=True,
            timeout=30,
        )

    broken_id = publish_raw_json(bus, "journal.mark.recorded", {"not": "an event"})
    wait_until(lambda: broken_id in run("list").stdout, what="the broken message parked")
    listing = run("list").stdout
    assert "invalid" in listing

    shown = run("show", broken_id)
    assert shown.returncode == 0
    assert "reason:       invalid" in shown.stdout
    assert '"not": "an event"' in shown.stdout

    assert run("show", "no-such-message").returncode == 1
    # Replayed as it is, it fails validation again and comes straight back, reason and all.
    assert run("replay", broken_id).stdout.strip() == "replay: 1 message(s)"
    time.sleep(0.5)
    wait_until(lambda: broken_id in run("list").stdout, what="the replayed message parked again")

    assert run("purge", "--all").stdout.strip() == "purge: 1 message(s)"
    assert run("list").stdout == ""
