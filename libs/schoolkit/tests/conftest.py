"""Fixtures of the kit's own tests: a small demo service and a fake identity on loopback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask, current_app, g, jsonify
from marshmallow import Schema, fields
from sqlalchemy import insert, select

# The kit's own authlib import, which keeps authlib's deprecation warning quiet.
from schoolkit import auth
from schoolkit.auth import (
    DIRECTOR,
    TokenVerifier,
    require_auth,
    require_roles,
)
from schoolkit.db import Database
from schoolkit.errors import load_json
from schoolkit.settings import Settings
from schoolkit.tables import kit_metadata, tombstones
from schoolkit.testing import (
    TokenIssuer,
    create_database,
    drop_database,
    free_port,
    require_postgres,
)
from schoolkit.web import create_service_app, db_session

ISSUER = "test-identity"
SERVICE = "demo"

log = logging.getLogger("demo")


class ItemSchema(Schema):
    title = fields.String(required=True)
    quantity = fields.Integer(required=True)


def demo_blueprint() -> Blueprint:
    """A tiny service API: one documented view, guarded views, a failing view."""
    blueprint = Blueprint("demo", __name__, url_prefix="/v1")

    @blueprint.post("/items")
    def create_item() -> Any:
        """Create an item.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: Item
          responses:
            201:
              description: The item as stored.
              content:
                application/json:
                  schema: Item
            422: ValidationFailed
        """
        return jsonify(load_json(ItemSchema())), 201

    @blueprint.get("/items/<int:item_id>")
    @require_auth
    def read_item(item_id: int) -> Any:
        log.info("item read", extra={"item_id": item_id})
        return {"item_id": item_id, "user_id": g.principal.user_id}

    @blueprint.get("/staff-room")
    @require_roles(DIRECTOR)
    def staff_room() -> Any:
        return {"welcome": g.principal.user_id}

    @blueprint.get("/sync")
    @require_roles(auth.SERVICE)
    def sync() -> Any:
        """A view for other services' own tokens, never for a person's."""
        principal = g.principal
        return {"client": principal.user_id, "school_id": principal.school_id}

    @blueprint.post("/boom")
    def boom() -> Any:
        load_json(ItemSchema(partial=True))
        raise RuntimeError("secret internals: db password is hunter2")

    @blueprint.post("/tombstones/<subject_id>")
    def bury(subject_id: str) -> Any:
        session = db_session()
        session.execute(insert(tombstones).values(subject_id=subject_id))
        if subject_id.startswith("keep"):
            session.commit()
        return {"subject_id": subject_id}, 201

    @blueprint.get("/tombstones")
    def list_tombstones() -> Any:
        session = db_session()
        current_app.config.setdefault("SESSIONS_SEEN", []).append(session)
        ids = session.execute(select(tombstones.c.subject_id)).scalars().all()
        return {"subject_ids": sorted(ids)}

    return blueprint


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    kit_metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A throwaway `kit_web_<random>` database on the machine's PostgreSQL."""
    require_postgres()
    url = create_database("kit_web")
    try:
        yield url
    finally:
        drop_database(url)


# The kit's tests call the token issuer "identity": it plays identity's part for them.
FakeIdentity = TokenIssuer


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity(ISSUER)
    yield fake
    fake.close()


@pytest.fixture
def make_app(
    tmp_path: Path, sqlite_database: Database, identity: FakeIdentity
) -> Callable[..., Flask]:
    """The demo service, built by the kit's factory; keyword arguments change its settings."""

    def build(*, verifier: TokenVerifier | None = None, **overrides: Any) -> Flask:
        database_url = overrides.pop("database_url", None)
        # The demo re-reads the deny-list on every request unless a test says otherwise,
        # so tests of what a block refuses need not wait for a snapshot to age.
        overrides.setdefault("deny_list_refresh_seconds", 0.0)
        settings = Settings.from_env(
            SERVICE,
            database_url=database_url or str(sqlite_database.engine.url),
            jwks_url=identity.jwks_url,
            token_issuer=ISSUER,
            var_dir=tmp_path,
            **overrides,
        )
        return create_service_app(
            settings,
            blueprints=[demo_blueprint()],
            database=None if database_url else sqlite_database,
            openapi_schemas={"Item": ItemSchema},
            title="Demo",
            token_verifier=verifier,
        )

    return build


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_header() -> Callable[[str], dict[str, str]]:
    return bearer


@pytest.fixture
def port_factory() -> Callable[[], int]:
    return free_port
