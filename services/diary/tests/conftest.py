"""Fixtures of the diary's own tests: a migrated database, events applied, signed tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from diary.app import create_app
from diary.handlers import HANDLERS
from diary.testing import SchoolEvents, new_id
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.testing import TokenIssuer

TODAY = date.today()
MONDAY = TODAY - timedelta(days=TODAY.weekday())


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    upgrade("diary", sqlite_url)
    database = Database(sqlite_url)
    yield database
    database.dispose()


Apply = Callable[..., list[str | None]]


@pytest.fixture
def apply(database: Database) -> Apply:
    """Apply events as the worker does: each through its handler, in its own transaction."""

    def apply_all(*events: Event) -> list[str | None]:
        outcomes = []
        for event in events:
            with database.transaction() as session:
                outcomes.append(HANDLERS[event.type](session, event))
        return outcomes

    return apply_all


@pytest.fixture
def school() -> SchoolEvents:
    return SchoolEvents()


@pytest.fixture
def client(database: Database, token_issuer: TokenIssuer) -> FlaskClient:
    url = str(database.engine.url)
    settings = Settings.from_env("diary", database_url=url, **token_issuer.settings_overrides())
    return create_app(settings).test_client()


class Caller:
    """Calls the diary API as one person with the given roles."""

    def __init__(self, client: FlaskClient, issuer: TokenIssuer, school_id: str) -> None:
        self.client = client
        self.issuer = issuer
        self.school_id = school_id

    def headers(self, user_id: str, *roles: str, school_id: str | None = None) -> dict[str, str]:
        return self.issuer.bearer(
            sub=user_id, roles=list(roles), school_id=school_id or self.school_id
        )

    def get(self, path: str, user_id: str, *roles: str, **kwargs: Any) -> Any:
        headers = {**self.headers(user_id, *roles, school_id=kwargs.pop("school_id", None))}
        headers.update(kwargs.pop("headers", {}))
        return self.client.get(f"/api/diary/v1{path}", headers=headers, **kwargs)

    def post(self, path: str, user_id: str, *roles: str, **kwargs: Any) -> Any:
        headers = self.headers(user_id, *roles)
        return self.client.post(f"/api/diary/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def caller(client: FlaskClient, token_issuer: TokenIssuer, school: SchoolEvents) -> Caller:
    return Caller(client, token_issuer, school.school_id)


@pytest.fixture
def class_5a() -> dict[str, str]:
    return {
        "class_id": new_id(),
        "class_teacher_id": new_id(),
        "maths_teacher_id": new_id(),
        "maths_id": new_id(),
        "history_id": new_id(),
    }
