"""The journal web process: `gunicorn 'journal.app:create_app()'`."""

from flask import Flask

from journal import api, exchange_api, plans_api, reports_api, timetable_api
from journal.report_schemas import REPORT_SCHEMAS
from journal.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(
        settings or Settings.from_env("journal"),
        blueprints=[
            api.blueprint,
            timetable_api.blueprint,
            plans_api.blueprint,
            reports_api.blueprint,
            exchange_api.blueprint,
        ],
        openapi_schemas={**SCHEMAS, **REPORT_SCHEMAS, **exchange_api.EXCHANGE_SCHEMAS},
        title="Journal",
    )
