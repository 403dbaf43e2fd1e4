"""What every transport (SMTP, an SMS provider) takes and how it says no for good."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class PermanentFailure(Exception):
    """The provider refused for good (bad address, rejected): no point in retrying."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outgoing:
    """One message as a provider gets it; `id` lets the provider's answers name it.
    An SMS with no subject is its body alone (everyday news keeps to one part)."""

    id: str
    channel: str
    address: str
    subject: str
    body: str
    unsubscribe_url: str | None = None  # digests: RFC 8058 one-click


class Transport(Protocol):
    def send(self, message: Outgoing) -> None: ...
