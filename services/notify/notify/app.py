"""The notify web process: `gunicorn 'notify.app:create_app()'`."""

from flask import Flask

from notify import api
from notify.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(
        settings or Settings.from_env("notify"),
        blueprints=[api.blueprint],
        openapi_schemas=SCHEMAS,
        title="Notify",
    )
