"""gunicorn settings of every web process: `gunicorn -c python:schoolkit.gunicorn_conf APP`.

Prometheus multiprocess mode: prometheus_client decides at import whether values go to
files, so `PROMETHEUS_MULTIPROC_DIR` is set here, in the master, before any worker
imports it. Each master gets its own directory, emptied when it starts, so counters of
a previous run are not added to this one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# gunicorn's hook: once a worker has loaded the app, what it loaded is frozen out of the
# collector's full passes (schoolkit.heap says why). It imports only gc.
from schoolkit.heap import post_worker_init  # noqa: F401

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _multiproc_dir() -> Path:
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        return Path(configured)
    var_dir = os.environ.get("SCHOOL_VAR_DIR")
    if var_dir:
        return Path(var_dir) / "prometheus" / str(os.getpid())
    return Path(tempfile.mkdtemp(prefix="prometheus-"))


def _created_by_us() -> bool:
    return MULTIPROC_ENV not in os.environ


_OWN_DIRECTORY = _created_by_us()
os.environ[MULTIPROC_ENV] = str(_multiproc_dir())

bind = [os.environ.get("BIND") or f"0.0.0.0:{os.environ.get('PORT') or 8000}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 4)
# Our own access lines are JSON with ids (web.py); gunicorn's would repeat them as text.
accesslog = None
timeout = 30
graceful_timeout = 20
# gunicorn 27 opens a control socket at one path per user: a dozen web processes on one
# machine would fight over it, and nothing of ours uses it.
control_socket_disable = True


def on_starting(_server: Any) -> None:
    """Start from an empty directory: files of dead processes would count again."""
    directory = Path(os.environ[MULTIPROC_ENV])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(_server: Any, worker: Any) -> None:
    """A dead worker's live gauges go; its counters and histograms stay in the sums."""
    # Imported here so that the master never imports prometheus_client before the
    # variable above is set.
    from prometheus_client import multiprocess  # noqa: PLC0415

    multiprocess.mark_process_dead(worker.pid)


def on_exit(_server: Any) -> None:
    if _OWN_DIRECTORY:
        shutil.rmtree(os.environ[MULTIPROC_ENV], ignore_errors=True)
