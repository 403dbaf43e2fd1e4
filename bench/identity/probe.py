"""A minimal endpoint of a service, with and without authentication, for bench/identity.

Built by the kit's own factory exactly like the journal (`create_service_app` with the
journal's settings: request ids, JSON logs, metrics, the TokenVerifier that fetches
identity's JWKS over HTTP, the deny-list snapshot from the kit's tables), so the only
difference between the two views is the kit's authentication.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from schoolkit.auth import current_principal, require_auth
from schoolkit.settings import Settings
from schoolkit.web import create_service_app


def probe_blueprint() -> Blueprint:
    blueprint = Blueprint("probe", __name__, url_prefix="/v1/probe")

    @blueprint.get("/open")
    def open_view() -> Any:
        return {"ok": True}

    @blueprint.get("/signed-in")
    @require_auth
    def signed_in_view() -> Any:
        return {"ok": True, "user_id": current_principal().user_id}

    return blueprint


def create_app() -> Flask:
    return create_service_app(
        Settings.from_env("journal"), blueprints=[probe_blueprint()], title="Journal probe"
    )
