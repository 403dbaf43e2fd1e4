"""Notify's own Prometheus metrics (the worker serves them with the kit's): what became of
each delivery, by channel, provider and state, and how late the oldest due one is."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DELIVERIES_FINISHED = Counter(
    "notify_deliveries",
    "Deliveries that reached a final state, by channel, provider and state.",
    ["channel", "provider", "state"],
)
OLDEST_UNDELIVERED_AGE = Gauge(
    "notify_oldest_undelivered_age_seconds",
    "How long the oldest delivery that is due has waited to leave (0 when none waits).",
    multiprocess_mode="livemax",
)
