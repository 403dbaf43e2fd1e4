"""What every grant hands to the token generator, and the digest of stored secrets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from identity.models import Account


@dataclass
class SignedIn:
    """The user a grant authenticated, with the session the tokens belong to."""

    account: Account
    session_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def get_user_id(self) -> str:
        return self.account.id


def digest(token: str) -> str:
    """Refresh tokens and authorization codes are kept only as this (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()
