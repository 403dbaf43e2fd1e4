"""authorization_code with PKCE for registered applications (RFC 6749 §4.1, RFC 7636).

Every authorization request must carry an S256 code challenge; `plain` is refused. A
code lives `CODE_SECONDS`, is stored only as its digest, and is exchanged once: a
second exchange is refused and ends the session the first one started (RFC 6749
§4.1.2: the code may have been stolen).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from identity import audit
from identity.models import Account, LoginSession
from identity.oauth.clients import SECRET_METHODS, RegisteredClient
from identity.oauth.sessions import revoke_session
from identity.oauth.signed_in import SignedIn, digest
from identity.oauth.tables import AuthorizationCode
from schoolkit.events import as_utc
from schoolkit.web import db_session

CODE_SECONDS = int(os.environ.get("IDENTITY_CODE_SECONDS") or 60)
S256 = "S256"


class S256Required(CodeChallenge):
    """PKCE with S256 on every authorization request, public client or not."""

    DEFAULT_CODE_CHALLENGE_METHOD = S256
    SUPPORTED_CODE_CHALLENGE_METHOD = [S256]  # noqa: RUF012 - Authlib's class attribute

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        if data.get("code_challenge_method") != S256:
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


@dataclass
class IssuedCode:
    """Authlib's view of a stored code."""

    row: AuthorizationCode

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", *SECRET_METHODS]  # noqa: RUF012

    def save_authorization_code(self, code: str, request: Any) -> None:
        account: Account = request.user.account
        session = db_session()
        session.add(
            AuthorizationCode(
                digest=digest(code),
                client_id=request.client.client_id,
                account_id=account.id,
                school_id=account.school_id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope or "",
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method=S256,
                expires_at=datetime.now(UTC) + timedelta(seconds=CODE_SECONDS),
            )
        )
        session.commit()

    def query_authorization_code(self, code: str, client: RegisteredClient) -> IssuedCode | None:
        session = db_session()
        row = session.get(AuthorizationCode, digest(code), with_for_update=True)
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            _end_what_the_code_started(row)
            return None
        if as_utc(row.expires_at) <= datetime.now(UTC):
            return None
        # Marked now, committed with the tokens: a failed exchange leaves the code unused.
        row.used_at = datetime.now(UTC)
        return IssuedCode(row)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        # Kept, not deleted: a replay must find it to end the session it started.
        authorization_code.row.session_id = self.request.user.session_id
        db_session().commit()

    def authenticate_user(self, authorization_code: IssuedCode) -> SignedIn | None:
        account = db_session().get(Account, authorization_code.row.account_id)
        if account is None or account.status != "active":
            return None
        return SignedIn(account)


def _end_what_the_code_started(row: AuthorizationCode) -> None:
    session = db_session()
    login_session = session.get(LoginSession, row.session_id) if row.session_id else None
    if login_session is not None and login_session.revoked_at is None:
        revoke_session(session, login_session, "authorization_code_reuse", row.school_id)
    audit.record(
        session,
        school_id=row.school_id,
        action="code_reuse",
        target_id=row.account_id,
        outcome="refused",
        details={"client": row.client_id},
    )
    session.commit()
