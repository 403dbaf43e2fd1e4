"""Keys a service reads from its environment: 32 random bytes, base64, one variable each.

A deployed image (SCHOOL_DEPLOYMENT=production, set by deploy/Dockerfile) refuses to start
without its keys. The development key of a local run derives from a phrase in this
repository, so whatever it seals or signs is open to anyone who reads the source: the
archive's backups of children's data, identity's signing keys and the console's session
cookies. `make up` and the tests use it, and say so in the log; `make secrets` writes
fresh keys into `.env`, where docker compose reads them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os

log = logging.getLogger(__name__)

KEY_BYTES = 32
DEPLOYMENT_VARIABLE = "SCHOOL_DEPLOYMENT"


class MissingKey(RuntimeError):
    """A deployed service was started without one of its keys."""


def is_deployed() -> bool:
    """True in the service images (deploy/Dockerfile says so), never in a local run."""
    return os.environ.get(DEPLOYMENT_VARIABLE, "").strip().lower() == "production"


def key_from_env(variable: str, development_phrase: bytes) -> bytes:
    """The key in `variable`; without one, the development key of a local run, or
    MissingKey in a deployed image."""
    configured = os.environ.get(variable, "").strip()
    if configured:
        return decode_key(variable, configured)
    if is_deployed():
        raise MissingKey(
            f"{variable} is not set: a deployed service needs its own key "
            "(`make secrets` writes one into .env for docker compose)"
        )
    log.warning("%s is not set: using the development key", variable)
    return hashlib.sha256(development_phrase).digest()


def decode_key(variable: str, configured: str) -> bytes:
    """32 bytes from base64, or a ValueError naming the variable (never its value)."""
    try:
        key = base64.b64decode(configured, validate=True)
    except binascii.Error:
        raise ValueError(f"{variable} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{variable} must be {KEY_BYTES} bytes, base64-encoded")
    return key


def new_key() -> str:
    """A fresh key, as a variable holds it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")
