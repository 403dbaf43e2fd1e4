"""Passwords: Argon2id at OWASP ASVS 5.0 strength (t=2, m=19 MiB, p=1), and the policy.

The policy follows ASVS 5.0 / NIST 800-63B: a minimum length, no composition rules, and
no password from the list of common ones shipped in data/ or built from the login.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from schoolkit.errors import ApiError

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 10
MAX_LENGTH = 128
COMMON_FILE = Path(__file__).parent / "data" / "common-passwords.txt"
# Verified against when a login does not exist, so both answers take as long.
DUMMY_HASH = HASHER.hash("not a real password, only for timing")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def check_policy(password: str, *, login: str | None = None, field: str = "password") -> None:
    """Raise a 422 naming the rule the password breaks; never echo the password."""
    if len(password) < MIN_LENGTH:
        _weak(field, "min_length", f"The password must have at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        _weak(field, "max_length", f"The password must have at most {MAX_LENGTH} characters.")
    if password.lower() in common_passwords():
        _weak(field, "common_password", "The password is one of the most common ones.")
    if login and login.lower() in password.lower():
        _weak(field, "contains_login", "The password must not contain the login.")


def _weak(field: str, rule: str, message: str) -> None:
    raise ApiError(422, "weak_password", message, {field: rule})
