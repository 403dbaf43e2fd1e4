"""Every Prometheus metric of the kit, defined once (DESIGN §7).

Under gunicorn each worker writes its values to files in `PROMETHEUS_MULTIPROC_DIR`
(see gunicorn_conf.py) and `/metrics` adds them up; a worker process without gunicorn
serves its own default registry with `serve_worker_metrics`.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

# Our requests and handlers take milliseconds; the default buckets start at 5 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# A gauge of a dead process must vanish rather than linger as a stale value.
GAUGE_MODE = "livemax"

HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route rule and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
EVENT_HANDLER_DURATION = Histogram(
    "event_handler_duration_seconds",
    "Time to apply one consumed event, by type and outcome.",
    ["event_type", "outcome"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "events_published", "Events the broker confirmed, by type.", ["event_type"]
)
EVENTS_CONSUMED = Counter(
    "events_consumed",
    "Events taken from the broker, by type and outcome.",
    ["event_type", "outcome"],
)
EVENTS_PARKED = Counter(
    "events_parked", "Events moved to the parking queue, by type.", ["event_type"]
)
EVENTS_UNROUTABLE = Counter(
    "events_unroutable",
    "Events no queue was bound to take, parked by their producer's relay, by type.",
    ["event_type"],
)
OUTBOX_BACKLOG = Gauge(
    "outbox_backlog",
    "Events written to the outbox and not yet published.",
    multiprocess_mode=GAUGE_MODE,
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox event.",
    multiprocess_mode=GAUGE_MODE,
)
PARKED_MESSAGES = Gauge(
    "parked_messages",
    "Messages waiting in this service's parking queue.",
    multiprocess_mode=GAUGE_MODE,
)


def metrics_response() -> tuple[bytes, str]:
    """The text exposition of this process, or of all gunicorn workers together."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_worker_metrics(port: int) -> None:
    """Serve /metrics of a worker process on `port`; 0 means it does not serve them."""
    if port:
        start_http_server(port)
