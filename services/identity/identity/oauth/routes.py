"""The provider's endpoints under /api/identity: discovery, JWKS, token, revocation and
the authorization endpoint's login page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from identity.oauth import authorize_page
from identity.oauth.clients import SECRET_METHODS
from identity.oauth.server import ACCESS_TOKEN_SECONDS, keyring
from schoolkit.web import current_kit, db_session

blueprint = Blueprint("oauth", __name__)


def _server() -> Any:
    return current_app.extensions["identity_oauth_server"]


@blueprint.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Any:
    """The same metadata at the path of RFC 8414, for clients that look there.
    ---
    get:
      responses:
        200:
          description: As at /.well-known/openid-configuration.
    """
    return discovery()


@blueprint.get("/.well-known/openid-configuration")
def discovery() -> Any:
    """Where everything is: the authorization server's metadata (RFC 8414), also at the
    OpenID Connect discovery path that clients look up first.
    ---
    get:
      responses:
        200:
          description: >-
            The provider's metadata. It names only what identity does: access tokens
            (JWTs verified against `jwks_uri`) and refresh tokens, never ID tokens, so no
            `id_token_*`, `userinfo_endpoint` or `openid` scope is advertised.
    """
    base = request.host_url.rstrip("/") + "/api/identity"
    return {
        "issuer": current_kit().settings.token_issuer,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "jwks_uri": f"{base}/oauth/jwks",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "grant_types_supported": [
            "password",
            "refresh_token",
            "client_credentials",
            "authorization_code",
        ],
        # The authorization endpoint answers with a code only: no ID token, no implicit flow.
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", *SECRET_METHODS],
        "revocation_endpoint_auth_methods_supported": ["none", *SECRET_METHODS],
        "access_token_lifetime": ACCESS_TOKEN_SECONDS,
    }


@blueprint.get("/oauth/jwks")
def jwks() -> Any:
    """The public keys that verify access tokens, the next one included before it signs.
    ---
    get:
      responses:
        200:
          description: A JWK Set.
    """
    session = db_session()
    keyring().signing_key(session)  # a fresh installation gets its first key here
    keys = keyring().jwks(session)
    session.commit()
    return keys, 200, {"Cache-Control": "public, max-age=60"}


@blueprint.get("/oauth/authorize")
def authorize_form() -> Any:
    """The login page of the authorization code flow (PKCE with S256 required).
    ---
    get:
      parameters:
        - {in: query, name: response_type, required: true, schema: {type: string, enum: [code]}}
        - {in: query, name: client_id, required: true, schema: {type: string}}
        - {in: query, name: redirect_uri, schema: {type: string}}
        - {in: query, name: scope, schema: {type: string}}
        - {in: query, name: state, schema: {type: string}}
        - {in: query, name: code_challenge, required: true, schema: {type: string}}
        - {in: query, name: code_challenge_method, required: true, schema: {type: string, enum: [S256]}}
        - {in: query, name: lang, schema: {type: string, enum: [ru, en]}}
      responses:
        200:
          description: The login form (HTML), Russian by default.
        302:
          description: Back to the client's redirect URI with an RFC 6749 error.
        400:
          description: An unknown client or redirect URI (HTML page naming the error).
    """
    return authorize_page.show()


@blueprint.post("/oauth/authorize")
def authorize() -> Any:
    """The login form posted back: on success, a code for the client.
    ---
    post:
      responses:
        302:
          description: Back to the client's redirect URI with `code` and `state`.
        400:
          description: The form again, with the one message for every failed login.
    """
    return authorize_page.sign_in()


@blueprint.post("/oauth/token")
def token() -> Any:
    """The token endpoint (RFC 6749): `password`, `refresh_token`, `client_credentials`
    and `authorization_code` (with the PKCE verifier) grants.
    ---
    post:
      responses:
        200:
          description: An access token (JWT, 10 minutes) and a refresh token.
        400:
          description: "invalid_grant: the same answer for every failed login."
        401:
          description: "invalid_client: the client is unknown or did not authenticate."
    """
    return _server().create_token_response()


@blueprint.post("/oauth/revoke")
def revoke() -> Any:
    """Revoke a refresh token and its session (RFC 7009).
    ---
    post:
      responses:
        200:
          description: Revoked (or already unknown).
        401:
          description: "invalid_client: the client is unknown or did not authenticate."
    """
    return _server().create_endpoint_response("revocation")
