"""Signing keys: sealed at rest, rotated with an overlap so no valid token ever fails.

A new key is published in the JWKS `PUBLISH_AHEAD` before it starts signing, so every
verifier has fetched it by then; the old key stays published until every token it
signed has expired. Private keys are sealed with AES-GCM under
IDENTITY_KEY_ENCRYPTION_KEY (32 bytes, base64); a local run without it uses a
development key and says so in the log, and a deployed image refuses to start
(schoolkit.keys).
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.models import SigningKey
from schoolkit.auth import JsonWebKey
from schoolkit.events import as_utc
from schoolkit.keys import key_from_env

log = logging.getLogger(__name__)

PUBLISH_AHEAD = timedelta(minutes=10)
ROTATE_EVERY = timedelta(days=7)
DEVELOPMENT_PHRASE = b"school-identity development key-encryption key - not for production"


def sealing_key_from_env() -> bytes:
    """IDENTITY_KEY_ENCRYPTION_KEY; a deployed identity refuses to start without it."""
    return key_from_env("IDENTITY_KEY_ENCRYPTION_KEY", DEVELOPMENT_PHRASE)


class KeyRing:
    def __init__(self, sealing_key: bytes, token_lifetime: timedelta) -> None:
        self.sealing_key = sealing_key
        self.token_lifetime = token_lifetime
        # Opening a sealed key and loading it into an RSA object took about 60 ms, twice
        # an Argon2 verification: every login paid it. A kid's key never changes.
        self._opened: dict[str, Any] = {}

    def signing_key(self, session: Session, now: datetime | None = None) -> tuple[str, Any]:
        """The key to sign with now (kid, private JWK); rotates when one is due."""
        now = now or datetime.now(UTC)
        keys = self._live(session)
        if not keys:
            self.add_key(session, signs_from=now)
            keys = self._live(session)
        signing = [k for k in keys if as_utc(k.signs_from) <= now]
        newest = signing[-1]
        if as_utc(newest.signs_from) + ROTATE_EVERY <= now and len(keys) == len(signing):
            self.add_key(session, signs_from=now + PUBLISH_AHEAD)
        self._retire_expired(signing, now)
        return newest.kid, self._opened_key(newest)

    def jwks(self, session: Session) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.public_jwk for key in self._live(session)]}

    def add_key(self, session: Session, signs_from: datetime) -> SigningKey:
        kid = uuid.uuid4().hex[:16]
        private = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": kid})
        public = private.as_dict(is_private=False)
        public.update(use="sig", alg="RS256", kid=kid)
        key = SigningKey(
            kid=kid,
            sealed_private_key=self._seal(json.dumps(private.as_dict(is_private=True))),
            public_jwk=public,
            published_at=datetime.now(UTC),
            signs_from=signs_from,
        )
        session.add(key)
        session.flush()
        log.info("signing key added", extra={"kid": kid})
        return key

    def _live(self, session: Session) -> list[SigningKey]:
        query = (
            select(SigningKey)
            .where(SigningKey.retired_at.is_(None))
            .order_by(SigningKey.signs_from)
        )
        return list(session.scalars(query))

    def _retire_expired(self, signing: list[SigningKey], now: datetime) -> None:
        """A key replaced longer ago than a token lives has nothing left to verify."""
        for older, newer in itertools.pairwise(signing):
            if as_utc(newer.signs_from) + self.token_lifetime + timedelta(minutes=1) <= now:
                older.retired_at = now

    def _opened_key(self, key: SigningKey) -> Any:
        opened = self._opened.get(key.kid)
        if opened is None:
            opened = self._opened[key.kid] = self._open(key)
        return opened

    def _seal(self, text: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.sealing_key).encrypt(nonce, text.encode(), b"signing-key")
        return base64.b64encode(nonce + sealed).decode()

    def _open(self, key: SigningKey) -> Any:
        raw = base64.b64decode(key.sealed_private_key)
        text = AESGCM(self.sealing_key).decrypt(raw[:12], raw[12:], b"signing-key")
        return JsonWebKey.import_key(json.loads(text))
