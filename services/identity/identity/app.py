"""The identity web process: `gunicorn 'identity.app:create_app()'`."""

from flask import Flask

from identity import api
from identity.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(
        settings or Settings.from_env("identity"),
        blueprints=[api.blueprint],
        openapi_schemas=SCHEMAS,
        title="Identity",
    )
