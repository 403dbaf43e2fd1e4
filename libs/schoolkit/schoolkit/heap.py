"""Short full collections in long-running processes: what was loaded at start is frozen.

A web worker or event worker imports some 1,300 modules at start (Flask, SQLAlchemy's
mappers, marshmallow schemas, fpdf2...): about 150,000 objects the cyclic collector
would walk on every full collection, for as long as the process lives. Measured in the
diary's gunicorn workers, those passes took 50-120 ms, stopping every thread of the
process meanwhile: a good part of the week view's p99 under load. Frozen objects
(gc.freeze, as Instagram's Django processes do) are never walked again, so a full pass
costs only what was allocated since.
"""

from __future__ import annotations

import gc


def freeze_what_is_loaded() -> None:
    """Call once the process has loaded everything it keeps, before serving its first
    request or event. Garbage is collected first, so none of it is kept for good."""
    gc.collect()
    gc.freeze()


def post_worker_init(_worker: object) -> None:
    """gunicorn's hook, run in each worker once the app is loaded: schoolkit.gunicorn_conf
    uses it, and a process with no other settings (the gateway) takes this module itself
    as its config (`-c python:schoolkit.heap`), gunicorn ignoring every other name here."""
    freeze_what_is_loaded()
