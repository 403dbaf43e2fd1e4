"""Journal test fixtures: an app on a migrated database, callers by role, the outbox's events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select

from journal.app import create_app
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.tables import outbox
from schoolkit.testing import TokenIssuer

SCHOOL = str(uuid4())
OTHER_SCHOOL = str(uuid4())
API = "/api/journal/v1"


def new_id() -> str:
    return str(uuid4())


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    upgrade("journal", sqlite_url)
    return sqlite_url


@pytest.fixture
def client(database_url: str, token_issuer: TokenIssuer) -> FlaskClient:
    settings = Settings.from_env(
        "journal",
        database_url=database_url,
        deny_list_refresh_seconds=0.0,
        **token_issuer.settings_overrides(),
    )
    return create_app(settings).test_client()


Caller = Callable[..., dict[str, str]]


@pytest.fixture
def caller(token_issuer: TokenIssuer) -> Caller:
    """Headers of a person holding `roles` in `school` (their id is `person_id`)."""

    def headers(*roles: str, person_id: str | None = None, school: str = SCHOOL) -> dict[str, str]:
        return token_issuer.bearer(sub=person_id or new_id(), school_id=school, roles=list(roles))

    return headers


@pytest.fixture
def published(database_url: str) -> Callable[[str], list[dict[str, Any]]]:
    """The envelopes of one event type in the outbox, oldest first."""

    def envelopes(event_type: str) -> list[dict[str, Any]]:
        engine = create_engine(database_url)
        with engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
            )
            bodies = [json.loads(row.body) for row in rows]
        engine.dispose()
        return bodies

    return envelopes
