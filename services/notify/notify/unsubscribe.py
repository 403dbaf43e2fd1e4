"""One-click unsubscribe from digests (RFC 8058): a signed link in every e-mail digest.

The link names the person and the school, signed with HMAC-SHA256 under
`NOTIFY_UNSUBSCRIBE_SECRET`, so a mail client can POST it without a sign-in and nobody
can forge one for someone else. Following it turns every e-mail digest of that person
off (each category's daily or weekly e-mail becomes `never`); messages sent at once and
legal notices stay as they were. Without a secret no link is offered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from notify import categories
from notify.models import Preference


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def token(secret: str, person_id: str, school_id: str) -> str:
    payload = _b64(json.dumps({"p": person_id, "s": school_id}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload)}"


def read_token(secret: str, value: str) -> tuple[str, str] | None:
    """(person_id, school_id) of a token signed with `secret`; None for anything else."""
    payload, _, signature = value.partition(".")
    if not secret or not hmac.compare_digest(signature, _signature(secret, payload)):
        return None
    try:
        claims = json.loads(_unb64(payload))
        return str(claims["p"]), str(claims["s"])
    except (ValueError, KeyError, TypeError):
        return None


def link(base_url: str, secret: str | None, person_id: str, school_id: str) -> str | None:
    if not secret:
        return None
    return f"{base_url}/v1/unsubscribe?token={token(secret, person_id, school_id)}"


def stop_email_digests(preference: Preference) -> None:
    chosen = {category: dict(by) for category, by in (preference.choices or {}).items()}
    for category in categories.CATEGORIES:
        if categories.cadence(chosen, category, "email") in categories.DIGESTS:
            chosen.setdefault(category, {})["email"] = "never"
    preference.choices = chosen  # a new object, so the JSON column is written
