"""The diary web process: `gunicorn 'diary.app:create_app()'`."""

from flask import Flask

from diary import api
from diary.bodycache import BodyCache
from diary.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    app = create_service_app(
        settings or Settings.from_env("diary"),
        blueprints=[api.blueprint],
        openapi_schemas=SCHEMAS,
        title="Diary",
    )
    app.extensions["diary_bodies"] = BodyCache.from_env()
    return app
