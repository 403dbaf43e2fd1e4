"""The token endpoint with Authlib: the password grant for the school's own clients,
refresh tokens with rotation and reuse detection, client_credentials for registered
services and authorization_code with PKCE for registered applications (issue 3 §2).

Access tokens are RS256 JWTs (`iss`, `sub` = the person id, `school_id`, `roles`, `sid`,
`client_id`, `iat`, `exp`, `jti`) that every service verifies with the kit. A refresh
token is used once: presenting a rotated one again means it was stolen or replayed, and
the whole session is revoked.

A service's token has `sub` = its client id, `roles` = ["service"], the `scope` it was
granted and its `school_id` (none for a platform service); it has no session and no
refresh token.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError, UnauthorizedClientError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Flask, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity import audit
from identity.models import Account, LoginSession, RefreshToken
from identity.oauth.addresses import client_address
from identity.oauth.clients import SECRET_METHODS, RegisteredClient, find_client
from identity.oauth.codes import CodeGrant, S256Required
from identity.oauth.keys import KeyRing
from identity.oauth.login import InvalidCredentials, authenticate
from identity.oauth.sessions import revoke_session
from identity.oauth.signed_in import SignedIn, digest
from schoolkit.auth import JsonWebToken
from schoolkit.events import as_utc
from schoolkit.web import current_kit, db_session

ACCESS_TOKEN_SECONDS = int(os.environ.get("IDENTITY_ACCESS_TOKEN_SECONDS") or 600)
REFRESH_TOKEN_DAYS = int(os.environ.get("IDENTITY_REFRESH_TOKEN_DAYS") or 30)
DEFAULT_SCHOOL = os.environ.get("IDENTITY_DEFAULT_SCHOOL") or "school-1"
FIRST_PARTY = ("web", "mobile")
SERVICE_ROLE = "service"
# The audit's school for what belongs to no school: a platform service's tokens.
PLATFORM = "platform"


@dataclass(frozen=True)
class Client(ClientMixin):
    """The school's own public clients: the web and mobile apps (no secret to keep)."""

    client_id: str
    grant_types: tuple[str, ...] = ("password", "refresh_token")

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return ""

    def get_allowed_scope(self, scope: str) -> str:
        return ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012 - Authlib's class attribute

    def authenticate_user(self, username: str, password: str) -> SignedIn | None:
        school_id = request.form.get("school_id") or DEFAULT_SCHOOL
        try:
            account = authenticate(
                db_session(),
                school_id=school_id,
                login=username,
                password=password,
                ip=client_address(),
            )
        except InvalidCredentials:
            return None
        return SignedIn(account)


class ServiceGrant(grants.ClientCredentialsGrant):
    """client_credentials: a registered service signs in as itself, with its secret."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(SECRET_METHODS)  # noqa: RUF012

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client = self.request.client
        if not isinstance(client, RegisteredClient) or not client.is_service:
            raise UnauthorizedClientError("Only a registered service may use this grant.")
        if not client.asks_only_allowed_scopes(self.request.payload.scope):
            raise InvalidScopeError("The client may not ask for this scope.")


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", *SECRET_METHODS]  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> StoredRefresh | None:
        session = db_session()
        stored = session.get(RefreshToken, digest(refresh_token), with_for_update=True)
        if stored is None:
            return None
        login_session = session.get(LoginSession, stored.session_id)
        account = session.get(Account, stored.account_id)
        if login_session is None or account is None:
            return None
        if stored.used_at is not None and login_session.revoked_at is None:
            # Reuse of a rotated token: whoever holds the chain is not to be trusted.
            revoke_session(session, login_session, "refresh_token_reuse", account.school_id)
            audit.record(
                session,
                school_id=account.school_id,
                action="refresh_reuse",
                target_id=account.id,
                outcome="session_revoked",
            )
            session.commit()
            return None
        if (
            stored.revoked_at is not None
            or login_session.revoked_at is not None
            or account.status != "active"
        ):
            return None
        if as_utc(stored.expires_at) <= datetime.now(UTC):
            return None
        return StoredRefresh(stored, account)

    def authenticate_user(self, refresh_token: StoredRefresh) -> SignedIn:
        return SignedIn(refresh_token.account, refresh_token.row.session_id)

    def revoke_old_credential(self, refresh_token: StoredRefresh) -> None:
        # Authlib calls this after save_token has committed: commit the rotation too.
        refresh_token.row.used_at = datetime.now(UTC)
        db_session().commit()


@dataclass
class StoredRefresh:
    row: RefreshToken
    account: Account

    def check_client(self, client: Client) -> bool:
        return self.row.client_id == client.client_id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return REFRESH_TOKEN_DAYS * 86400

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def is_expired(self) -> bool:
        return as_utc(self.row.expires_at) <= datetime.now(UTC)


class Revocation(RevocationEndpoint):
    """RFC 7009: a client revokes its refresh token, which ends its session."""

    CLIENT_AUTH_METHODS = ["none", *SECRET_METHODS]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> StoredRefresh | None:
        session = db_session()
        stored = session.get(RefreshToken, digest(token_string))
        account = session.get(Account, stored.account_id) if stored is not None else None
        return (
            StoredRefresh(stored, account) if stored is not None and account is not None else None
        )

    def revoke_token(self, token: StoredRefresh, request: Any) -> None:
        session = db_session()
        login_session = session.get(LoginSession, token.row.session_id)
        account = token.account
        if login_session is not None and account is not None and login_session.revoked_at is None:
            revoke_session(session, login_session, "logout", account.school_id)
        session.commit()


def query_client(client_id: str) -> Client | RegisteredClient | None:
    if client_id in FIRST_PARTY:
        return Client(client_id)
    return find_client(db_session(), client_id)


def issue_tokens(  # noqa: PLR0917 - the signature Authlib calls
    grant_type: str,
    client: Client | RegisteredClient,
    user: SignedIn | None = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    """Authlib's token generator: a signed JWT access token and an opaque refresh token."""
    if user is None:
        assert isinstance(client, RegisteredClient)  # only client_credentials has no user
        claims = _service_claims(client, scope)
    else:
        claims = _user_claims(client, user, scope)
    session = db_session()
    kid, key = keyring().signing_key(session)
    access = JsonWebToken(["RS256"]).encode({"alg": "RS256", "kid": kid}, claims, key).decode()
    token: dict[str, Any] = {
        "token_type": "Bearer",
        "access_token": access,
        "expires_in": ACCESS_TOKEN_SECONDS,
    }
    if claims.get("scope"):
        token["scope"] = claims["scope"]
    if include_refresh_token and user is not None:
        token["refresh_token"] = secrets.token_urlsafe(32)
    return token


def _user_claims(
    client: Client | RegisteredClient, user: SignedIn, scope: str | None
) -> dict[str, Any]:
    account = user.account
    if user.session_id is None:
        login_session = LoginSession(
            id=str(uuid.uuid4()), account_id=account.id, client_id=client.client_id
        )
        db_session().add(login_session)
        user.session_id = login_session.id
    claims = {
        **_lifetime_claims(),
        "sub": account.id,
        "school_id": account.school_id,
        "roles": [] if account.must_change_password else list(account.roles),
        "sid": user.session_id,
        "client_id": client.client_id,
    }
    granted = client.get_allowed_scope(scope)  # never more than the client may have
    if account.must_change_password:
        claims["scope"] = "password_change"
    elif granted:
        claims["scope"] = granted
    return claims


def _service_claims(client: RegisteredClient, scope: str | None) -> dict[str, Any]:
    claims = {
        **_lifetime_claims(),
        "sub": client.client_id,
        "roles": [SERVICE_ROLE],
        "client_id": client.client_id,
        "scope": client.get_allowed_scope(scope),
    }
    if client.school_id is not None:
        claims["school_id"] = client.school_id
    return claims


def _lifetime_claims() -> dict[str, Any]:
    now = time.time()
    return {
        "iss": current_kit().settings.token_issuer,
        # Milliseconds (RFC 7519 allows a fraction): a token issued just after a
        # revocation in the same second must not be mistaken for one issued before it.
        "iat": round(now, 3),
        "exp": int(now) + ACCESS_TOKEN_SECONDS,
        "jti": uuid.uuid4().hex,
    }


def save_token(token: dict[str, Any], oauth_request: Any) -> None:
    session = db_session()
    user: SignedIn | None = oauth_request.user
    client = oauth_request.client
    if user is None:
        _audit_issued(session, client.school_id or PLATFORM, None, client, oauth_request)
        session.commit()
        return
    account = user.account
    if "refresh_token" in token:
        session.add(
            RefreshToken(
                digest=digest(token["refresh_token"]),
                session_id=user.session_id,
                account_id=account.id,
                client_id=client.client_id,
                scope=token.get("scope", ""),
                expires_at=datetime.now(UTC) + timedelta(days=REFRESH_TOKEN_DAYS),
            )
        )
    _audit_issued(session, account.school_id, account.id, client, oauth_request)
    session.commit()


def _audit_issued(
    session: Session,
    school_id: str,
    account_id: str | None,
    client: Client | RegisteredClient,
    oauth_request: Any,
) -> None:
    audit.record(
        session,
        school_id=school_id,
        action="token_issued",
        actor_id=account_id,
        target_id=account_id,
        ip=client_address(),
        details={"grant": oauth_request.payload.grant_type or "", "client": client.client_id},
    )


def keyring() -> KeyRing:
    return current_app.extensions["identity_keyring"]  # type: ignore[no-any-return]


def create_authorization_server(app: Flask) -> AuthorizationServer:
    # Authlib logs every issued token at DEBUG: never, even in a process run at DEBUG.
    logging.getLogger("authlib").setLevel(logging.INFO)
    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(PasswordGrant)
    server.register_grant(RefreshGrant)
    server.register_grant(ServiceGrant)
    server.register_grant(CodeGrant, [S256Required()])
    server.register_token_generator("default", issue_tokens)
    server.register_endpoint(Revocation)
    return server


def accounts_of_school(school_id: str) -> list[Account]:
    return list(db_session().scalars(select(Account).where(Account.school_id == school_id)))
