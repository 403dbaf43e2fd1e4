"""The consent web process: `gunicorn 'consent.app:create_app()'`."""

from flask import Flask

from consent import api
from consent.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(
        settings or Settings.from_env("consent"),
        blueprints=[api.blueprint],
        openapi_schemas=SCHEMAS,
        title="Consent",
    )
