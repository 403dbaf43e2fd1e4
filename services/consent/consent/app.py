"""The consent web process: `gunicorn 'consent.app:create_app()'`."""

from flask import Flask

from consent import api
from consent.coordinator import Coordinator
from consent.schemas import SCHEMAS
from consent.settings import ErasureSettings
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(
    settings: Settings | None = None, erasure_settings: ErasureSettings | None = None
) -> Flask:
    app = create_service_app(
        settings or Settings.from_env("consent"),
        blueprints=[api.blueprint],
        openapi_schemas=SCHEMAS,
        title="Consent",
    )
    # The policy is checked here, at start: a wrong policy stops the service (issue 5 §4).
    app.extensions["consent_coordinator"] = Coordinator(erasure_settings or ErasureSettings())
    return app
