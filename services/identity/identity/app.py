"""The identity web process: `gunicorn 'identity.app:create_app()'`."""

from datetime import timedelta

from flask import Flask

from identity import api, console, imports_api, invitations_api
from identity.oauth import routes
from identity.oauth.keys import KeyRing, sealing_key_from_env
from identity.oauth.server import ACCESS_TOKEN_SECONDS, create_authorization_server
from identity.oauth.verifier import OwnKeysVerifier
from identity.schemas import SCHEMAS
from schoolkit.settings import Settings
from schoolkit.web import create_service_app, web_database


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("identity")
    database = web_database(settings)
    keyring = KeyRing(sealing_key_from_env(), timedelta(seconds=ACCESS_TOKEN_SECONDS))
    app = create_service_app(
        settings,
        blueprints=[
            api.blueprint,
            invitations_api.blueprint,
            imports_api.blueprint,
            routes.blueprint,
        ],
        database=database,
        openapi_schemas=SCHEMAS,
        title="Identity",
        token_verifier=OwnKeysVerifier(database, keyring, settings.token_issuer),
    )
    app.extensions["identity_keyring"] = keyring
    app.extensions["identity_oauth_server"] = create_authorization_server(app)
    console.configure(app)
    return app
