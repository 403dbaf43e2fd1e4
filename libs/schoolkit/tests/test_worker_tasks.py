"""A worker's periodic tasks: they run on their interval, and a failing turn stops nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from schoolkit.db import Database
from schoolkit.tables import kit_metadata
from schoolkit.testing import Bus
from schoolkit.worker import PeriodicTask, Worker


def wait_until(condition, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_task_runs_again_and_again_even_after_a_turn_that_failed(
    bus: Bus, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'tasks.db'}"
    kit_metadata.create_all(Database(url).engine)
    turns: list[str] = []

    def send_mail(database: Database) -> None:
        database.ping()
        turns.append("sent")
        if len(turns) == 1:
            raise RuntimeError("SMTP server refused the first time")

    worker = Worker(bus.settings("notify", url), {}, [PeriodicTask("mail", 0.05, send_mail)])
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: len(turns) >= 3)
    finally:
        worker.stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive()
