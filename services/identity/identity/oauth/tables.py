"""The provider's own tables: registered clients, authorization codes, per-address failures.

Client secrets and authorization codes exist only as SHA-256 digests, like refresh
tokens: both are long random strings, so a fast digest is enough to make a stolen
table useless.
"""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models import Base
from schoolkit.tables import utcnow


class OAuthClient(Base):
    """A registered client: a service (client_credentials) or a third-party application
    (authorization_code with PKCE). No school means a platform service of every school."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)  # service | application
    secret_digest: Mapped[str | None] = mapped_column(String(64))  # None: a public client
    grant_types: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthorizationCode(Base):
    """A code from the login page, exchanged once, within minutes, with its PKCE verifier."""

    __tablename__ = "authorization_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    account_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(String(500), nullable=False)
    scope: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    code_challenge: Mapped[str] = mapped_column(String(128), nullable=False)
    code_challenge_method: Mapped[str] = mapped_column(String(10), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    session_id: Mapped[str | None] = mapped_column(String(36))  # the session it started


class AddressFailures(Base):
    """Failed logins from one network address in the current window (every school)."""

    __tablename__ = "address_failures"

    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    refused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
