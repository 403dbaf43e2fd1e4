"""A real gunicorn with two workers: /metrics adds up every worker, living or dead."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

DEMO_APP = """
import gc
import os

from flask import Blueprint
from prometheus_client import Gauge

from schoolkit.settings import Settings
from schoolkit.web import create_service_app

# One per living worker: if a dead worker's value lingered, the sum would exceed two.
WORKERS_ALIVE = Gauge("kit_test_workers_alive", "Workers alive.", multiprocess_mode="livesum")

blueprint = Blueprint("demo", __name__, url_prefix="/v1")


@blueprint.get("/pid")
def pid():
    return {"pid": os.getpid()}


@blueprint.get("/frozen")
def frozen():
    return {"objects": gc.get_freeze_count()}


def create_app():
    WORKERS_ALIVE.set(1)
    return create_service_app(Settings.from_env("demo"), blueprints=[blueprint])
"""

PID_ROUTE = "/api/demo/v1/pid"


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    base_url: str
    var_dir: Path

    def pid_of_answering_worker(self) -> int:
        # A new connection each time, so that either worker may take it.
        answer = requests.get(self.base_url + PID_ROUTE, headers={"Connection": "close"}, timeout=5)
        answer.raise_for_status()
        return int(answer.json()["pid"])

    def metric(self, pattern: str) -> float | None:
        exposition = requests.get(self.base_url + "/metrics", timeout=5).text
        match = re.search(rf"^{pattern} (\S+)$", exposition, re.MULTILINE)
        return float(match.group(1)) if match else None

    def pid_requests_counted(self) -> float | None:
        return self.metric(
            r'http_request_duration_seconds_count\{method="GET",'
            r'route="/api/demo/v1/pid",status="200"\}'
        )


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            if requests.get(base_url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not become healthy")


StartGunicorn = Callable[..., Gunicorn]


@pytest.fixture
def start_gunicorn(tmp_path: Path, port_factory: Callable[[], int]) -> Iterator[StartGunicorn]:
    """Starts `gunicorn -c python:schoolkit.gunicorn_conf` with two workers on loopback."""
    (tmp_path / "kit_demo_app.py").write_text(DEMO_APP)
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra_environment: str) -> Gunicorn:
        port = port_factory()
        environment = {
            key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"
        }
        environment.update(
            PYTHONPATH=str(tmp_path),
            SCHOOL_VAR_DIR=str(tmp_path / "var"),
            DEMO_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}",
            BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="2",
            WEB_THREADS="2",
            **extra_environment,
        )
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "python:schoolkit.gunicorn_conf",
            "kit_demo_app:create_app()",
        ]
        process = subprocess.Popen(
            command, env=environment, cwd=tmp_path, stdout=subprocess.DEVNULL
        )
        started.append(process)
        base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(base_url, process)
        return Gunicorn(process, base_url, tmp_path / "var")

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


@pytest.fixture
def gunicorn(start_gunicorn: StartGunicorn) -> Gunicorn:
    return start_gunicorn()


def test_metrics_add_up_both_workers_and_keep_a_killed_workers_requests(
    gunicorn: Gunicorn,
) -> None:
    served: dict[int, int] = {}
    made = 0
    while len(served) < 2 or made < 40:
        assert made < 2000, f"one worker took every request: {served}"
        pid = gunicorn.pid_of_answering_worker()
        served[pid] = served.get(pid, 0) + 1
        made += 1

    assert gunicorn.pid_requests_counted() == made
    assert gunicorn.metric("kit_test_workers_alive") == 2

    victim = max(served, key=served.__getitem__)
    os.kill(victim, signal.SIGKILL)
    # The survivor answers until the replacement has booted: on a busy machine that is
    # thousands of requests, so the wait is bounded by time, not by a count.
    deadline = time.monotonic() + 60
    while gunicorn.pid_of_answering_worker() in served:
        made += 1
        assert time.monotonic() < deadline, "no worker replaced the killed one"
    made += 1  # the request the replacement answered

    assert gunicorn.pid_requests_counted() == made
    assert gunicorn.metric("kit_test_workers_alive") == 2


def test_without_a_configured_directory_each_master_gets_its_own_under_the_var_dir(
    gunicorn: Gunicorn,
) -> None:
    gunicorn.pid_of_answering_worker()
    directories = list((gunicorn.var_dir / "prometheus").iterdir())
    assert [directory.name for directory in directories] == [str(gunicorn.process.pid)]
    assert any(directories[0].glob("histogram_*.db"))


def test_a_configured_directory_is_emptied_of_a_previous_runs_files_at_start(
    start_gunicorn: StartGunicorn, tmp_path: Path
) -> None:
    directory = tmp_path / "multiproc"
    directory.mkdir()
    leftover = directory / "counter_99999.db"
    leftover.write_bytes(b"values of a process long gone")
    server = start_gunicorn(PROMETHEUS_MULTIPROC_DIR=str(directory))
    assert not leftover.exists()
    server.pid_of_answering_worker()
    assert server.pid_requests_counted() == 1
    assert any(directory.glob("histogram_*.db"))


def test_the_master_removes_its_own_directory_when_it_stops(gunicorn: Gunicorn) -> None:
    directory = gunicorn.var_dir / "prometheus" / str(gunicorn.process.pid)
    assert directory.is_dir()
    gunicorn.process.send_signal(signal.SIGTERM)
    gunicorn.process.wait(timeout=30)
    assert not directory.exists()


def test_each_worker_keeps_what_it_loaded_out_of_the_collectors_full_passes(
    gunicorn: Gunicorn,
) -> None:
    # Flask, SQLAlchemy and the kit alone are tens of thousands of objects; walking them
    # in every full collection stalled a diary worker for up to 120 ms (schoolkit.heap).
    answer = requests.get(gunicorn.base_url + "/api/demo/v1/frozen", timeout=5)
    assert answer.json()["objects"] > 20_000
