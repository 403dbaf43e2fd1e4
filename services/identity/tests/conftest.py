"""Identity's test fixtures: the real provider on loopback, an administrator, helpers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from identity.app import create_app
from identity.bootstrap import ensure_admin
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.tables import outbox

SCHOOL = "school-1"
ADMIN_PASSWORD = "Ключ-от-кабинета-42"


@dataclass
class Provider:
    """identity's web app served on a free port, with the database behind it."""

    url: str
    database: Database

    def api(self, path: str) -> str:
        return f"{self.url}/api/identity{path}"

    def login(
        self, login: str, password: str, school: str = SCHOOL, client: str = "web"
    ) -> requests.Response:
        form = {
            "grant_type": "password",
            "username": login,
            "password": password,
            "client_id": client,
            "school_id": school,
        }
        return requests.post(self.api("/oauth/token"), data=form, timeout=10)

    def bearer(self, login: str, password: str, school: str = SCHOOL) -> dict[str, str]:
        answer = self.login(login, password, school)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def published(self, event_type: str) -> list[dict[str, Any]]:
        with self.database.transaction() as session:
            query = (
                select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
            )
            return [json.loads(body) for body in session.scalars(query)]


@pytest.fixture
def provider(postgres_url: str) -> Iterator[Provider]:
    upgrade("identity", postgres_url)
    database = Database(postgres_url)
    ensure_admin(database, "admin", ADMIN_PASSWORD, SCHOOL)
    ensure_admin(database, "admin", ADMIN_PASSWORD, "school-2")
    settings = Settings.from_env(
        "identity", database_url=postgres_url, deny_list_refresh_seconds=0.0
    )
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    settings_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Provider(settings_url, database)
    server.shutdown()
    database.dispose()


@pytest.fixture
def admin(provider: Provider) -> dict[str, str]:
    return provider.bearer("admin", ADMIN_PASSWORD)


@pytest.fixture
def make_person(provider: Provider, admin: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def make(
        kind: str = "guardian", login: str | None = None, password: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {"kind": kind, "last_name": "Иванова", "first_name": "Мария", **fields}
        if login:
            body.update(login=login, password=password or "Длинный пароль 2025")
        if kind == "staff":
            body.setdefault("roles", ["subject_teacher"])
        answer = requests.post(provider.api("/v1/people"), json=body, headers=admin, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()

    return make
