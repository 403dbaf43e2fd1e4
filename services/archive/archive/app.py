"""The archive web process: `gunicorn 'archive.app:create_app()'`."""

from flask import Flask

from archive import api
from archive.keys import KeyStore, master_key_from_env
from archive.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    app = create_service_app(
        settings or Settings.from_env("archive"),
        blueprints=[api.blueprint],
        openapi_schemas=SCHEMAS,
        title="Archive",
    )
    app.extensions["archive_keys"] = KeyStore(master_key_from_env())
    return app
