"""The identity web process: `gunicorn 'identity.app:create_app()'`."""

from datetime import timedelta

from flask import Flask

from identity import api
from identity.oauth import routes
from identity.oauth.keys import KeyRing, sealing_key_from_env
from identity.oauth.server import ACCESS_TOKEN_SECONDS, create_authorization_server
from identity.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    app = create_service_app(
        settings or Settings.from_env("identity"),
        blueprints=[api.blueprint, routes.blueprint],
        openapi_schemas=SCHEMAS,
        title="Identity",
    )
    lifetime = timedelta(seconds=ACCESS_TOKEN_SECONDS)
    app.extensions["identity_keyring"] = KeyRing(sealing_key_from_env(), lifetime)
    app.extensions["identity_oauth_server"] = create_authorization_server(app)
    return app
