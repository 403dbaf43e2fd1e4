"""A school's daily SMS budget: SMS cost money, e-mail does not.

Past the budget an everyday SMS waits for the next school day's morning instead of going
out (held, never dropped); legal notices go regardless. The share used is a gauge per
school, and an alert warns when it nears the budget.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notify import categories
from notify.config import DeliveryConfig
from notify.models import Delivery
from notify.planning import parse_clock
from schoolkit.times import school_zone

SMS_BUDGET_USED = Gauge(
    "notify_sms_budget_used_ratio",
    "The share of the school's daily SMS budget used today.",
    ["school_id"],
    multiprocess_mode="livemax",
)


def _day_start(now: datetime) -> datetime:
    local = now.astimezone(school_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def sent_today(session: Session, school_id: str, now: datetime) -> int:
    query = select(func.count()).where(
        Delivery.school_id == school_id,
        Delivery.channel == "sms",
        Delivery.status.in_(("sending", "sent")),
        # In UTC, as stored (SQLite would compare the school's wall clock as text).
        func.coalesce(Delivery.finished_at, Delivery.sending_since)
        >= _day_start(now).astimezone(UTC),
    )
    return session.scalar(query) or 0


def hold_if_over(
    session: Session, group: list[Delivery], config: DeliveryConfig, now: datetime
) -> bool:
    """True when the group is an everyday SMS past the budget: it is moved to tomorrow."""
    first = group[0]
    budget = config.sms_daily_budget
    if first.channel != "sms" or not budget:
        return False
    used = sent_today(session, first.school_id, now)
    SMS_BUDGET_USED.labels(first.school_id).set(max(used, 0) / budget)
    if used < budget or any(d.category in categories.LEGAL or d.category is None for d in group):
        return False
    morning = datetime.combine(
        _day_start(now).date() + timedelta(days=1), parse_clock(config.quiet_until), school_zone()
    )
    for delivery in group:
        delivery.status, delivery.sending_since = "created", None
        delivery.next_attempt_at = morning.astimezone(UTC)
        delivery.attempts -= 1  # not a failure: it was never tried
        delivery.last_error = "sms_budget"
    return True
