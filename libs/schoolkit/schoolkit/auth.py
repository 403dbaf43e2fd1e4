"""Access tokens, verified locally against identity's JWKS (DESIGN §5).

A token is accepted when its signature, `exp`, `nbf` and `iss` hold, it names `sub` and
`school_id`, and the deny-list (fed by identity's events, see denylist.py) does not
refuse its user or session. Claims read: `sub`, `school_id`, `roles` (a list, or a
space-separated string), `sid` (the session), `client_id`, `iat`, `scope`.

A service's own token (client_credentials: `roles` = ["service"], `sub` = its client id)
may lack `school_id` when the service works for the whole platform; its principal then
has the school "" and so matches no school's records. `require_auth` lets users only;
a view that serves services says so with `require_roles(SERVICE, ...)`.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

import requests
from flask import current_app, g, request
from sqlalchemy import select

from schoolkit.db import Database
from schoolkit.errors import ApiError
from schoolkit.events import as_utc
from schoolkit.tables import denied_users, revoked_sessions

# authlib.jose warns on import that joserfc will replace it; until we move, the warning
# would only be noise on every process start.
with warnings.catch_warnings():
    from authlib.deprecate import AuthlibDeprecationWarning

    # authlib.deprecate forces "always" for its warnings when imported; ours comes after.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken, KeySet
    from authlib.jose.errors import (
        ExpiredTokenError,
        InvalidClaimError,
        JoseError,
        MissingClaimError,
    )

log = logging.getLogger(__name__)

ADMINISTRATOR = "administrator"
DIRECTOR = "director"
DEPUTY_DIRECTOR = "deputy_director"
CLASS_TEACHER = "class_teacher"
SUBJECT_TEACHER = "subject_teacher"
GUARDIAN = "guardian"
STUDENT = "student"
SERVICE = "service"  # a service's own client-credentials token
OPERATIONS = "operations"
ALL_ROLES = frozenset(
    {
        ADMINISTRATOR,
        DIRECTOR,
        DEPUTY_DIRECTOR,
        CLASS_TEACHER,
        SUBJECT_TEACHER,
        GUARDIAN,
        STUDENT,
        SERVICE,
        OPERATIONS,
    }
)

ALGORITHMS = ["RS256", "ES256", "EdDSA"]

# The reason denylist.py writes for "every session of this user was revoked at denied_at".
SESSIONS_REVOKED = "sessions_revoked"

# The attribute our decorators leave on a view, read by openapi.py.
ROLES_ATTRIBUTE = "schoolkit_required_roles"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the verified content of an access token."""

    user_id: str
    school_id: str
    roles: frozenset[str]
    session_id: str | None
    client_id: str | None
    claims: Mapping[str, Any] = field(compare=False, repr=False)

    def has_any_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_service(self) -> bool:
        """A service calling as itself, not on behalf of a person."""
        return SERVICE in self.roles

    @property
    def scopes(self) -> frozenset[str]:
        scope = self.claims.get("scope")
        return frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    @property
    def issued_at(self) -> datetime | None:
        iat = self.claims.get("iat")
        return datetime.fromtimestamp(iat, UTC) if isinstance(iat, int | float) else None


class TokenRejected(Exception):
    """The token cannot be trusted; the message says why, in words safe to return."""


class KeysUnavailable(Exception):
    """identity's JWKS could not be fetched and no keys are known yet."""


class DenyList(Protocol):
    def is_denied(self, principal: Principal) -> str | None:
        """The reason this principal's token is refused, or None."""


def _roles_of(claims: Mapping[str, Any]) -> frozenset[str]:
    roles = claims.get("roles") or ()
    if isinstance(roles, str):
        roles = roles.split()
    return frozenset(str(role) for role in roles)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    roles = _roles_of(claims)
    school_id = claims.get("school_id")
    if not school_id and SERVICE not in roles:
        raise MissingClaimError("school_id")  # only a platform service belongs to no school
    return Principal(
        user_id=str(claims["sub"]),
        school_id=str(school_id or ""),
        roles=roles,
        session_id=claims.get("sid"),
        client_id=claims.get("client_id"),
        claims=MappingProxyType(dict(claims)),
    )


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    expires_at: float
    key_generation: int


class TokenVerifier:
    """Verifies access tokens against a JWKS fetched over HTTP and cached.

    An unknown `kid` triggers a refetch (key rotation), at most once per
    `refresh_interval` so a flood of forged tokens cannot hammer identity.

    A client sends the same token with every request for its whole life, and checking
    its RSA signature and claims again each time cost a service about a third of a
    minimal request (bench/identity). So up to `cache_size` tokens that verified are
    remembered, by their exact text, with the key set that verified them: a known token
    costs a dictionary lookup and its `exp` check. A new key set (rotation, withdrawal)
    or an old one (`max_key_age`) sends every token through the full check again, and
    the deny-list is asked on every request regardless (`authenticate`).
    """

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        *,
        audience: str | None = None,
        leeway: int = 30,
        refresh_interval: float = 10.0,
        max_key_age: float = 300.0,
        http_timeout: float = 3.0,
        cache_size: int = 4096,
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.refresh_interval = refresh_interval
        self.max_key_age = max_key_age
        self.http_timeout = http_timeout
        self._jwt = JsonWebToken(ALGORITHMS)
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._lock = threading.Lock()
        self.cache_size = cache_size
        self._verified: dict[str, _Verified] = {}
        self._key_generation = 0

    def verify(self, token: str) -> Principal:
        # Only compact JWS: a five-part JWE is not an access token of ours.
        if token.count(".") != 2:
            raise TokenRejected("The token is malformed.")
        known = self._verified.get(token)
        if known is not None and self._still_trusted(known):
            if known.expires_at < time.time() - self.leeway:
                raise TokenRejected("The token has expired.")
            return known.principal
        generation = self._key_generation
        principal = self._check(token)
        self._remember(token, principal, generation)
        return principal

    def _still_trusted(self, known: _Verified) -> bool:
        fresh_keys = time.monotonic() - self._fetched_at <= self.max_key_age
        return fresh_keys and known.key_generation == self._key_generation

    def _remember(self, token: str, principal: Principal, generation: int) -> None:
        if self.cache_size <= 0:
            return
        if len(self._verified) >= self.cache_size:
            self._verified = {}  # start over: simpler and safer across threads than LRU
        self._verified[token] = _Verified(principal, float(principal.claims["exp"]), generation)

    def _check(self, token: str) -> Principal:
        try:
            claims = self._jwt.decode(token, self._key_for, claims_options=self._claims_options())
            claims.validate(leeway=self.leeway)
            return principal_from_claims(claims)  # inside: odd claim types are refused too
        except ExpiredTokenError as error:
            raise TokenRejected("The token has expired.") from error
        except (MissingClaimError, InvalidClaimError) as error:
            raise TokenRejected(f"{error.description}.") from error
        except (JoseError, ValueError, TypeError) as error:
            raise TokenRejected("The token is invalid.") from error

    def _claims_options(self) -> dict[str, dict[str, Any]]:
        options: dict[str, dict[str, Any]] = {
            "iss": {"essential": True, "value": self.issuer},
            "sub": {"essential": True},
            "exp": {"essential": True},
        }
        if self.audience is not None:
            options["aud"] = {"essential": True, "value": self.audience}
        return options

    def _key_for(self, header: Mapping[str, Any], _payload: Any) -> Any:
        kid = header.get("kid")
        key = _find_key(self._current_keys(), kid)
        if key is None and self._may_refetch():
            self._fetch()
            key = _find_key(self._keys, kid)
        if key is None:
            raise TokenRejected("The token is signed with an unknown key.")
        return key

    def _current_keys(self) -> KeySet:
        stale = time.monotonic() - self._fetched_at > self.max_key_age
        if (self._keys is None or stale) and self._may_refetch():
            self._fetch()
        if self._keys is None:
            with self._lock:
                pass  # another thread's first fetch may be in flight: wait for its outcome
        if self._keys is None:
            raise KeysUnavailable("identity's keys cannot be fetched")
        return self._keys

    def _may_refetch(self) -> bool:
        if self._attempted_at is None:
            return True
        # Without any key every request fails: try sooner than with a working set.
        interval = self.refresh_interval if self._keys is not None else 1.0
        return time.monotonic() - self._attempted_at >= interval

    def load_jwks(self) -> dict[str, Any]:
        """The JWK Set, from identity over HTTP (identity itself reads its own table)."""
        response = requests.get(self.jwks_url, timeout=self.http_timeout)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def _fetch(self) -> None:
        """Replace the cached keys; on failure keep the ones we have."""
        with self._lock:
            if not self._may_refetch():
                return  # another thread fetched while this one waited
            self._attempted_at = time.monotonic()
            try:
                self._keys = JsonWebKey.import_key_set(self.load_jwks())
                self._fetched_at = time.monotonic()
                self._key_generation += 1
                self._verified = {}
            except (requests.RequestException, ValueError, JoseError) as error:
                log.warning("cannot fetch the JWKS", extra={"error_type": type(error).__name__})


def _find_key(keys: KeySet | None, kid: str | None) -> Any:
    if keys is None:
        return None
    try:
        return keys.find_by_kid(kid)
    except ValueError:
        return None


class TableDenyList:
    """The kit tables `denied_users` and `revoked_sessions`, read as a snapshot.

    The snapshot is reloaded when it is older than `refresh_seconds` (the first request
    after that reloads it, one query per table), so a block reaches every request of
    this process within that time after the worker applied the event, and a request
    costs a dictionary lookup, not a database round trip. The tables stay small: the
    worker prunes revocations once every token they could refuse has expired. If the
    database cannot be read, a snapshot older than `max_stale_seconds` is not trusted:
    the request fails rather than let a blocked user in.
    """

    def __init__(
        self,
        database: Database,
        refresh_seconds: float = 0.25,
        max_stale_seconds: float = 5.0,
    ) -> None:
        self.database = database
        self.refresh_seconds = refresh_seconds
        self.max_stale_seconds = max_stale_seconds
        self._users: dict[str, tuple[str | None, datetime]] = {}
        self._sessions: frozenset[str] = frozenset()
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def is_denied(self, principal: Principal) -> str | None:
        self._refresh_if_old()
        user = self._users.get(principal.user_id)
        if user is not None and _user_row_refuses(user[0], user[1], principal):
            return user[0] or "blocked"
        if principal.session_id is not None and principal.session_id in self._sessions:
            return "session_revoked"
        return None

    def _refresh_if_old(self) -> None:
        loaded_at = self._loaded_at
        if loaded_at is not None and time.monotonic() - loaded_at < self.refresh_seconds:
            return
        with self._lock:
            if self._loaded_at is not loaded_at:
                return  # another thread reloaded it while this one waited
            try:
                self._reload()
            except Exception:
                if loaded_at is None or time.monotonic() - loaded_at > self.max_stale_seconds:
                    raise
                log.warning("deny-list not reloaded; using the previous snapshot")

    def _reload(self) -> None:
        with self.database.reader.connect() as connection:
            users = connection.execute(
                select(denied_users.c.user_id, denied_users.c.reason, denied_users.c.denied_at)
            )
            self._users = {row.user_id: (row.reason, row.denied_at) for row in users}
            sessions = connection.execute(select(revoked_sessions.c.session_id))
            self._sessions = frozenset(sessions.scalars())
        self._loaded_at = time.monotonic()


def _user_row_refuses(reason: str | None, denied_at: datetime, principal: Principal) -> bool:
    if reason != SESSIONS_REVOKED:
        return True  # a blocked user: every token is refused
    issued_at = principal.issued_at
    # identity's iat carries milliseconds; where it has whole seconds, a token issued in
    # the very second of the revocation is refused too (the safe side).
    return issued_at is None or issued_at.timestamp() <= as_utc(denied_at).timestamp()


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _unauthorized(code: str, message: str, bearer_error: str | None = None) -> ApiError:
    challenge = f'Bearer error="{bearer_error}"' if bearer_error else "Bearer"
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def authenticate() -> Principal:
    """The principal of the current request's bearer token, or a 401/503 ApiError."""
    token = _bearer_token()
    if token is None:
        raise _unauthorized("unauthorized", "A bearer access token is required.")
    kit = current_app.extensions["schoolkit"]
    try:
        principal = kit.token_verifier.verify(token)
    except TokenRejected as error:
        raise _unauthorized("invalid_token", str(error), "invalid_token") from error
    except KeysUnavailable as error:
        raise ApiError(503, "auth_unavailable", "Tokens cannot be verified right now.") from error
    reason = kit.deny_list.is_denied(principal)
    if reason is not None:
        log.info("token refused", extra={"user_id": principal.user_id, "reason": reason})
        raise _unauthorized("token_revoked", "This token has been revoked.", "invalid_token")
    return principal


def current_principal() -> Principal:
    """The principal that `require_auth` put on `g`."""
    return g.principal  # type: ignore[no-any-return]


View = TypeVar("View", bound=Callable[..., Any])


def require_auth(view: View) -> View:
    """The view runs only with a user's valid, not revoked token; `g.principal` says whose.

    A service's own token is refused (403): such a view acts for a person.
    """
    return _guarded(view, frozenset())


def require_roles(*roles: str) -> Callable[[View], View]:
    """Like `require_auth`, and the principal must hold at least one of `roles` (else 403)."""
    unknown = set(roles) - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return lambda view: _guarded(view, frozenset(roles))


def _guarded(view: View, roles: frozenset[str]) -> View:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        principal = authenticate()
        if principal.is_service and SERVICE not in roles:
            raise ApiError(403, "forbidden", "This is for users, not for services.")
        if roles and not principal.has_any_role(*roles):
            raise ApiError(403, "forbidden", "Your role does not allow this.")
        g.principal = principal
        return view(*args, **kwargs)

    setattr(guarded, ROLES_ATTRIBUTE, roles)
    return guarded  # type: ignore[return-value]
