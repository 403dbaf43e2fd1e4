"""Where notify sends mail and SMS: environment variables with working local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryConfig:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025  # the local mail sink of `make up`
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "school@localhost"
    sms_url: str | None = None  # an HTTP SMS gateway; without one, no SMS is queued
    max_attempts: int = 5
    first_retry_seconds: float = 30.0
    batch_size: int = 50
    send_interval_seconds: float = 1.0
    quiet_from: str = "21:00"  # the school's default quiet hours, its own wall clock
    quiet_until: str = "08:00"
    digest_at: str = "19:00"  # the default time of the daily (and weekly) digest
    mark_settle_seconds: float = 300.0  # a mark waits this long for its corrections
    sending_lease_seconds: float = 300.0  # a send not confirmed by then is given up

    @classmethod
    def from_env(cls, **overrides: object) -> DeliveryConfig:
        env = os.environ.get
        values: dict[str, object] = {
            "smtp_host": env("NOTIFY_SMTP_HOST", cls.smtp_host),
            "smtp_port": int(env("NOTIFY_SMTP_PORT", str(cls.smtp_port))),
            "smtp_user": env("NOTIFY_SMTP_USER") or None,
            "smtp_password": env("NOTIFY_SMTP_PASSWORD") or None,
            "smtp_starttls": env("NOTIFY_SMTP_STARTTLS", "false").lower() == "true",
            "mail_from": env("NOTIFY_MAIL_FROM", cls.mail_from),
            "sms_url": env("NOTIFY_SMS_URL") or None,
            "max_attempts": int(env("NOTIFY_MAX_ATTEMPTS", str(cls.max_attempts))),
            "first_retry_seconds": float(
                env("NOTIFY_FIRST_RETRY_SECONDS", str(cls.first_retry_seconds))
            ),
            "quiet_from": env("NOTIFY_QUIET_FROM", cls.quiet_from),
            "quiet_until": env("NOTIFY_QUIET_UNTIL", cls.quiet_until),
            "digest_at": env("NOTIFY_DIGEST_AT", cls.digest_at),
            "mark_settle_seconds": float(
                env("NOTIFY_MARK_SETTLE_SECONDS", str(cls.mark_settle_seconds))
            ),
            "sending_lease_seconds": float(
                env("NOTIFY_SENDING_LEASE_SECONDS", str(cls.sending_lease_seconds))
            ),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
