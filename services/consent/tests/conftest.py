"""Consent's test fixtures: its app on a migrated database, tokens of the school's staff."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from consent.app import create_app
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.tables import outbox
from schoolkit.testing import TokenIssuer

from .families import World

SCHOOL = "school-254"
API = "/api/consent/v1"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    upgrade("consent", sqlite_url)
    return sqlite_url


@pytest.fixture
def client(database_url: str, token_issuer: TokenIssuer) -> FlaskClient:
    settings = Settings.from_env(
        "consent", database_url=database_url, **token_issuer.settings_overrides()
    )
    return create_app(settings).test_client()


@pytest.fixture
def as_role(token_issuer: TokenIssuer) -> Callable[..., dict[str, str]]:
    def headers(*roles: str, school: str = SCHOOL, user: str | None = None) -> dict[str, str]:
        return token_issuer.bearer(
            sub=user or str(uuid.uuid4()), school_id=school, roles=list(roles)
        )

    return headers


@pytest.fixture
def published(database_url: str) -> Callable[[str], list[dict[str, Any]]]:
    def events(event_type: str) -> list[dict[str, Any]]:
        database = Database(database_url)
        try:
            with database.transaction() as session:
                query = (
                    select(outbox.c.body)
                    .where(outbox.c.event_type == event_type)
                    .order_by(outbox.c.id)
                )
                return [json.loads(body) for body in session.scalars(query)]
        finally:
            database.dispose()

    return events


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """Consent's copies of identity and the journal, fed through its handlers."""
    found = World(database_url)
    yield found
    found.close()
