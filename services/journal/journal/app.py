"""The journal web process: `gunicorn 'journal.app:create_app()'`."""

from flask import Flask

from journal import api, plans_api, timetable_api
from journal.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(
        settings or Settings.from_env("journal"),
        blueprints=[api.blueprint, timetable_api.blueprint, plans_api.blueprint],
        openapi_schemas=SCHEMAS,
        title="Journal",
    )
