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
    sms_url: str | None = None  # a plain HTTP SMS gateway, when no provider is named
    sms_providers: tuple[str, ...] = ()  # "smsru", "smsc": tried in this order
    smsru_api_id: str | None = None
    smsru_url: str = "https://sms.ru"
    smsc_login: str | None = None
    smsc_password: str | None = None
    smsc_url: str = "https://smsc.ru"
    sms_timeout_seconds: float = 5.0
    sms_slow_seconds: float = 2.0  # an answer slower than this demotes the provider
    sms_demote_seconds: float = 60.0
    sms_daily_budget: int = 0  # SMS per school and day; 0: no limit
    receipts_interval_seconds: float = 60.0  # how often SMS.ru is asked for receipts
    public_url: str = "http://127.0.0.1:8080/api/notify"  # where links in messages point
    unsubscribe_secret: str | None = None  # signs one-click unsubscribe links (RFC 8058)
    max_attempts: int = 5
    first_retry_seconds: float = 30.0
    batch_size: int = 50
    send_interval_seconds: float = 1.0
    quiet_from: str = "21:00"  # the school's default quiet hours, its own wall clock
    quiet_until: str = "08:00"
    digest_at: str = "19:00"  # the default time of the daily (and weekly) digest
    mark_settle_seconds: float = 300.0  # a mark waits this long for its corrections
    sending_lease_seconds: float = 300.0  # a send not confirmed by then is given up

    @property
    def sms_enabled(self) -> bool:
        """Without a provider or a gateway no SMS is queued."""
        return bool(self.sms_providers or self.sms_url)

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
            "sms_providers": tuple(
                name.strip() for name in env("NOTIFY_SMS_PROVIDERS", "").split(",") if name.strip()
            ),
            "smsru_api_id": env("NOTIFY_SMSRU_API_ID") or None,
            "smsru_url": env("NOTIFY_SMSRU_URL", cls.smsru_url),
            "smsc_login": env("NOTIFY_SMSC_LOGIN") or None,
            "smsc_password": env("NOTIFY_SMSC_PASSWORD") or None,
            "smsc_url": env("NOTIFY_SMSC_URL", cls.smsc_url),
            "sms_timeout_seconds": float(env("NOTIFY_SMS_TIMEOUT_SECONDS", "5")),
            "sms_slow_seconds": float(env("NOTIFY_SMS_SLOW_SECONDS", "2")),
            "sms_demote_seconds": float(env("NOTIFY_SMS_DEMOTE_SECONDS", "60")),
            "sms_daily_budget": int(env("NOTIFY_SMS_DAILY_BUDGET", "0")),
            "receipts_interval_seconds": float(env("NOTIFY_RECEIPTS_INTERVAL_SECONDS", "60")),
            "public_url": env("NOTIFY_PUBLIC_URL", cls.public_url),
            "unsubscribe_secret": env("NOTIFY_UNSUBSCRIBE_SECRET") or None,
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
