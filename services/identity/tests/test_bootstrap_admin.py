"""The first administrator of a fresh installation, as `make up` creates it."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from identity.bootstrap import ensure_admin
from identity.models import Account
from identity.passwords import HASHER, password_matches
from schoolkit.db import Database
from schoolkit.migrate import upgrade


def _database(url: str) -> Database:
    upgrade("identity", url)
    return Database(url)


def _accounts(database: Database) -> list[Account]:
    with database.sessions() as session:
        return list(session.scalars(select(Account)))


def test_the_administrator_gets_the_password_given_in_the_environment(postgres_url: str) -> None:
    database = _database(postgres_url)
    result = ensure_admin(database, "director", "Ключ-от-кабинета-42")
    assert result.created and result.generated_password is None
    [account] = _accounts(database)
    assert account.login == "director" and account.roles == ["administrator"]
    assert password_matches(account.password_hash, "Ключ-от-кабинета-42")
    assert "Ключ" not in account.password_hash
    database.dispose()


def test_without_a_password_one_is_generated_and_only_its_hash_is_stored(sqlite_url: str) -> None:
    database = _database(sqlite_url)
    result = ensure_admin(database, "admin", None)
    assert result.generated_password and len(result.generated_password) >= 16
    [account] = _accounts(database)
    assert password_matches(account.password_hash, result.generated_password)
    assert account.password_hash.startswith("$argon2id$")
    parameters = HASHER.check_needs_rehash(account.password_hash)
    assert parameters is False  # hashed at the configured OWASP strength
    database.dispose()


def test_running_the_bootstrap_again_keeps_the_first_password(sqlite_url: str) -> None:
    database = _database(sqlite_url)
    first = ensure_admin(database, "admin", None)
    second = ensure_admin(database, "admin", "another-password-entirely")
    assert first.created and not second.created
    [account] = _accounts(database)
    assert first.generated_password is not None
    assert password_matches(account.password_hash, first.generated_password)
    database.dispose()


def test_the_command_prints_the_generated_password_once(sqlite_url: str) -> None:
    upgrade("identity", sqlite_url)
    environment = {**os.environ, "IDENTITY_DATABASE_URL": sqlite_url}
    environment.pop("BOOTSTRAP_ADMIN_PASSWORD", None)
    command = [sys.executable, "-m", "identity.bootstrap"]
    first = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    again = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    assert "password:" in first.stdout and "generated" in first.stdout
    assert "already exists" in again.stdout and "password:" not in again.stdout
