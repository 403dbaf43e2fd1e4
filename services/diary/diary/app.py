"""The diary web process: `gunicorn 'diary.app:create_app()'`."""

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from diary import api
from diary.bodycache import BodyCache
from diary.schemas import SCHEMAS
from schoolkit.errors import StrictJsonProvider
from schoolkit.settings import Settings
from schoolkit.times import instant_iso
from schoolkit.web import create_service_app


class IsoDatesJSONProvider(StrictJsonProvider):
    """Dates and instants as ISO 8601 (Flask's default would write RFC 822 HTTP dates),
    an instant always with its offset (schoolkit.times); request bodies read as every
    service reads them (schoolkit.errors)."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return instant_iso(o)
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(settings: Settings | None = None) -> Flask:
    app = create_service_app(
        settings or Settings.from_env("diary"),
        blueprints=[api.blueprint],
        openapi_schemas=SCHEMAS,
        title="Diary",
    )
    app.json = IsoDatesJSONProvider(app)
    app.extensions["diary_bodies"] = BodyCache.from_env()
    return app
