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
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
