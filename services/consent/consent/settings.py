"""The consent service's own knobs (environment variables with working defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from consent.policy import Policy, load_policy
from consent.workdays import WorkingCalendar, deadline_working_days


@dataclass(frozen=True)
class ErasureSettings:
    policy: Policy = field(default_factory=load_policy)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    working_days: int = field(default_factory=deadline_working_days)
    # A participant that has not confirmed by then is asked again (the event is re-sent).
    ask_again_after: timedelta = field(
        default_factory=lambda: timedelta(
            seconds=float(os.environ.get("ERASURE_ASK_AGAIN_SECONDS") or 300)
        )
    )
    # consent.erasure.overdue is raised once this share of the legal term has passed.
    warn_share: float = field(
        default_factory=lambda: float(os.environ.get("ERASURE_WARN_SHARE") or 0.5)
    )
    sweep_seconds: float = field(
        default_factory=lambda: float(os.environ.get("ERASURE_SWEEP_SECONDS") or 15)
    )
    operator: str = field(
        default_factory=lambda: (
            os.environ.get("SCHOOL_OPERATOR_NAME") or "Образовательная организация"
        )
    )
    responsible: str = field(
        default_factory=lambda: (
            os.environ.get("SCHOOL_PD_RESPONSIBLE")
            or "Ответственный за обработку персональных данных"
        )
    )
