"""Registered clients: services (client_credentials) and third-party applications
(authorization_code with PKCE), kept in `oauth_clients` with their secrets as digests.

`identity-add-client` registers one and prints its secret once; the secret is never
stored, logged or shown again. A service client may belong to one school or, with no
school, to the platform (a service that works for every school).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import secrets
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy.orm import Session

from identity.oauth.tables import OAuthClient
from schoolkit.db import Database
from schoolkit.settings import Settings

SERVICE = "service"
APPLICATION = "application"
GRANTS_OF_KIND = {
    SERVICE: ["client_credentials"],
    APPLICATION: ["authorization_code", "refresh_token"],
}
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
# Sessions and refresh tokens name their client in 40 characters.
CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
MAX_REDIRECT_LENGTH = 500  # authorization_codes.redirect_uri
MIN_SECRET_LENGTH = 32


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredClient(ClientMixin):
    """Authlib's view of a row of `oauth_clients`."""

    row: OAuthClient

    @property
    def client_id(self) -> str:
        return self.row.client_id

    @property
    def school_id(self) -> str | None:
        return self.row.school_id

    @property
    def is_service(self) -> bool:
        return self.row.kind == SERVICE

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str:
        # Only one registered address may stand in for a missing redirect_uri.
        uris = self.row.redirect_uris
        return uris[0] if len(uris) == 1 else ""

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.row.scopes
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope.split() if s in allowed)

    def asks_only_allowed_scopes(self, scope: str | None) -> bool:
        return set((scope or "").split()) <= set(self.row.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exact match, never a prefix

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.row.secret_digest
        return stored is not None and hmac.compare_digest(stored, secret_digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.secret_digest is None:
            return method == "none"
        return method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


def find_client(session: Session, client_id: str) -> RegisteredClient | None:
    row = session.get(OAuthClient, client_id)
    if row is None or row.disabled_at is not None:
        return None
    return RegisteredClient(row)


def register_client(
    session: Session,
    client_id: str,
    *,
    kind: str,
    school_id: str | None = None,
    scopes: list[str] | None = None,
    redirect_uris: list[str] | None = None,
    public: bool = False,
    secret: str | None = None,
) -> str | None:
    """Register a client; returns its secret (None for a public application).

    A deployment that hands the same secret to the client (the web app's, from .env)
    gives it as `secret`; otherwise a fresh one is made.
    """
    if not CLIENT_ID.fullmatch(client_id):
        raise ValueError("a client id is 2-40 of a-z, 0-9, '.', '_', '-'")
    if session.get(OAuthClient, client_id) is not None:
        raise ValueError(f"the client {client_id} exists already")
    if kind not in GRANTS_OF_KIND:
        raise ValueError(f"kind must be one of {sorted(GRANTS_OF_KIND)}")
    if kind == SERVICE and public:
        raise ValueError("a service client must have a secret")
    if kind == APPLICATION and not redirect_uris:
        raise ValueError("an application needs at least one redirect URI")
    for uri in redirect_uris or []:
        if not _acceptable_redirect(uri):
            raise ValueError(f"not an absolute redirect URI without a fragment: {uri[:80]}")
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"a client secret has at least {MIN_SECRET_LENGTH} characters")
    if public:
        secret = None
    elif secret is None:
        secret = secrets.token_urlsafe(32)
    session.add(
        OAuthClient(
            client_id=client_id,
            school_id=school_id,
            kind=kind,
            secret_digest=secret_digest(secret) if secret else None,
            grant_types=GRANTS_OF_KIND[kind],
            redirect_uris=list(redirect_uris or []),
            scopes=list(scopes or []),
        )
    )
    session.flush()
    return secret


def _acceptable_redirect(uri: str) -> bool:
    """Absolute, no fragment (RFC 6749 §3.1.2); a private scheme of a native app is fine."""
    parts = urlsplit(uri)
    return (
        bool(parts.scheme)
        and bool(parts.netloc or parts.path)
        and not parts.fragment
        and (len(uri) <= MAX_REDIRECT_LENGTH)
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="identity-add-client", description="Register an OAuth client of identity."
    )
    parser.add_argument("client_id")
    parser.add_argument("--kind", choices=sorted(GRANTS_OF_KIND), default=SERVICE)
    parser.add_argument("--school", help="the school it belongs to; none: a platform service")
    parser.add_argument("--scope", action="append", default=[], help="an allowed scope")
    parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
    parser.add_argument("--public", action="store_true", help="an application without a secret")
    parser.add_argument(
        "--secret-env",
        metavar="NAME",
        help="take the secret from this environment variable (the deployment gives it to the"
        " client too) instead of making one; it is not printed",
    )
    parser.add_argument(
        "--keep-existing",
        action="store_true",
        help="a client with this id already registered is left as it is (exit 0)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    given = os.environ.get(arguments.secret_env, "") if arguments.secret_env else None
    if arguments.secret_env and not given:
        sys.stderr.write(f"identity-add-client: {arguments.secret_env} is not set\n")
        return 2
    database = Database(Settings.from_env("identity").database_url)
    try:
        with database.transaction() as session:
            if arguments.keep_existing and session.get(OAuthClient, arguments.client_id):
                sys.stdout.write(f"client: {arguments.client_id} (registered already)\n")
                return 0
            secret = register_client(
                session,
                arguments.client_id,
                kind=arguments.kind,
                school_id=arguments.school,
                scopes=arguments.scope,
                redirect_uris=arguments.redirect_uris,
                public=arguments.public,
                secret=given,
            )
    except ValueError as error:
        sys.stderr.write(f"identity-add-client: {error}\n")
        return 2
    finally:
        database.dispose()
    sys.stdout.write(f"client: {arguments.client_id}\n")
    if secret and not given:
        # Printed once for whoever registers the client; only its digest is kept.
        sys.stdout.write(f"secret: {secret}  (shown only this once)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
