"""The Flask wiring every service's web process shares (DESIGN §6, §7).

`create_service_app` builds a fresh app: request and correlation ids, one JSON access
line and one histogram sample per request, JSON errors, token verification, a
request-scoped database session, /healthz, /readyz, /metrics and the OpenAPI document.
Nothing connects to anything until a request needs it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from itertools import chain
from typing import Any

import pika
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from marshmallow import Schema
from sqlalchemy.orm import Session

from schoolkit.auth import DenyList, TableDenyList, TokenVerifier
from schoolkit.context import SANE_ID, correlation_id_var, new_id, request_id_var
from schoolkit.db import Database
from schoolkit.errors import refuse_nul_in_address, register_error_handlers
from schoolkit.logs import configure_logging
from schoolkit.metrics import HTTP_REQUEST_DURATION, metrics_response
from schoolkit.openapi import build_openapi
from schoolkit.settings import Settings

log = logging.getLogger("schoolkit.access")

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes arrive every few seconds: their access lines are debug noise.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class Readiness:
    """Whether the database and the broker answer; the broker's answer is kept a while."""

    def __init__(
        self,
        database: Database,
        amqp_url: str,
        *,
        broker_cache_seconds: float = 5.0,
        broker_timeout_seconds: float = 1.5,
    ) -> None:
        self.database = database
        self.amqp_url = amqp_url
        self.broker_cache_seconds = broker_cache_seconds
        self.broker_timeout_seconds = broker_timeout_seconds
        self._broker_answer: tuple[float, bool] | None = None
        self._lock = threading.Lock()

    def checks(self) -> dict[str, str]:
        return {
            "database": "ok" if self._database_answers() else "unavailable",
            "broker": "ok" if self._broker_answers() else "unavailable",
        }

    def _database_answers(self) -> bool:
        try:
            self.database.ping()
            return True
        except Exception as error:  # a readiness probe reports; it never fails with a 500
            log.warning("database not ready", extra={"error_type": type(error).__name__})
            return False

    def _broker_answers(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._broker_answer and now - self._broker_answer[0] < self.broker_cache_seconds:
                return self._broker_answer[1]
            answer = self._connect_to_broker()
            self._broker_answer = (time.monotonic(), answer)
            return answer

    def _connect_to_broker(self) -> bool:
        try:
            parameters = pika.URLParameters(self.amqp_url)
            parameters.socket_timeout = self.broker_timeout_seconds
            parameters.stack_timeout = self.broker_timeout_seconds + 0.5
            parameters.blocked_connection_timeout = self.broker_timeout_seconds
            parameters.connection_attempts = 1
            pika.BlockingConnection(parameters).close()
            return True
        except Exception as error:  # the URL holds a password: log the kind of failure only
            log.warning("broker not ready", extra={"error_type": type(error).__name__})
            return False


@dataclass
class ServiceKit:
    """What the kit keeps in `app.extensions["schoolkit"]`."""

    settings: Settings
    database: Database
    token_verifier: TokenVerifier
    deny_list: DenyList
    readiness: Readiness
    title: str
    version: str
    openapi_schemas: dict[str, type[Schema]] = field(default_factory=dict)
    openapi_document: dict[str, Any] | None = None


def current_kit() -> ServiceKit:
    return current_app.extensions["schoolkit"]  # type: ignore[no-any-return]


def db_session() -> Session:
    """This request's session; closed at teardown. Commit explicitly: nothing commits for you."""
    session: Session | None = g.get("_schoolkit_session")
    if session is None:
        session = current_kit().database.sessions()
        g._schoolkit_session = session
    return session


def read_session() -> Session:
    """This request's session for views that only read: no transaction round trips.

    See `Database.read_sessions`. Never write through it (each statement would commit
    alone); a view that writes uses `db_session`.
    """
    session: Session | None = g.get("_schoolkit_read_session")
    if session is None:
        session = current_kit().database.read_sessions()
        g._schoolkit_read_session = session
    return session


def create_service_app(
    settings: Settings,
    *,
    blueprints: Iterable[Blueprint] = (),
    database: Database | None = None,
    openapi_schemas: dict[str, type[Schema]] | None = None,
    title: str | None = None,
    token_verifier: TokenVerifier | None = None,
    deny_list: DenyList | None = None,
) -> Flask:
    configure_logging(settings.service, settings.log_level)
    app = Flask(settings.service)
    database = database or Database(settings.database_url, **_engine_options(settings))
    app.extensions["schoolkit"] = ServiceKit(
        settings=settings,
        database=database,
        token_verifier=token_verifier
        or TokenVerifier(
            settings.jwks_url, settings.token_issuer, cache_size=settings.token_cache_size
        ),
        deny_list=deny_list or TableDenyList(database, settings.deny_list_refresh_seconds),
        readiness=Readiness(database, settings.amqp_url),
        title=title or settings.service.capitalize(),
        version=_service_version(settings.service),
        openapi_schemas=dict(openapi_schemas or {}),
    )
    _install_request_hooks(app)
    register_error_handlers(app)
    _register_kit_routes(app, settings.service)
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix=_api_prefix(settings.service, blueprint))
    return app


def _engine_options(settings: Settings) -> dict[str, Any]:
    # A database that does not answer must fail a request (and /readyz) soon, not hang it.
    if settings.database_url.startswith("postgres"):
        return {"connect_args": {"connect_timeout": 5}}
    return {}


def _service_version(service: str) -> str:
    try:
        return metadata.version(f"school-{service}")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _api_prefix(service: str, blueprint: Blueprint) -> str:
    own = (blueprint.url_prefix or "").strip("/")
    return f"/api/{service}/{own}" if own else f"/api/{service}"


def _sane_id(value: str | None) -> str | None:
    return value if value and SANE_ID.match(value) else None


def _install_request_hooks(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_forget_request_ids)
    app.teardown_appcontext(_close_session)


def _start_request() -> None:
    request_id = _sane_id(request.headers.get("X-Request-ID")) or new_id()
    correlation_id = _sane_id(request.headers.get("X-Correlation-ID")) or request_id
    g._schoolkit_started = time.perf_counter()
    g._schoolkit_id_tokens = (
        request_id_var.set(request_id),
        correlation_id_var.set(correlation_id),
    )
    arguments = request.args
    refuse_nul_in_address([request.path, *arguments.keys(), *chain(*arguments.listvalues())])


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = request_id_var.get() or ""
    response.headers["X-Correlation-ID"] = correlation_id_var.get() or ""
    seconds = time.perf_counter() - g.get("_schoolkit_started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    HTTP_REQUEST_DURATION.labels(method, route, str(response.status_code)).observe(seconds)
    quiet = any(route.endswith(path) for path in QUIET_PATHS)
    log.log(
        logging.DEBUG if quiet else logging.INFO,
        "request",
        extra={
            "method": method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
        },
    )
    return response


def _forget_request_ids(_error: BaseException | None) -> None:
    tokens = g.pop("_schoolkit_id_tokens", None)
    if tokens is not None:
        request_id_var.reset(tokens[0])
        correlation_id_var.reset(tokens[1])


def _close_session(_error: BaseException | None) -> None:
    for name in ("_schoolkit_session", "_schoolkit_read_session"):
        session: Session | None = g.pop(name, None)
        if session is not None:
            session.close()


def _register_kit_routes(app: Flask, service: str) -> None:
    for name, prefix in (("kit", ""), ("kit_api", f"/api/{service}")):
        app.add_url_rule(f"{prefix}/healthz", f"{name}_healthz", _healthz)
        app.add_url_rule(f"{prefix}/readyz", f"{name}_readyz", _readyz)
    # At the root only, which no gateway route reaches: metrics are for Prometheus on the
    # ops network, not for the public (R-PLT-3). The gateways refuse the prefixed path too.
    app.add_url_rule("/metrics", "kit_metrics", _metrics)
    app.add_url_rule(f"/api/{service}/openapi.json", "kit_openapi", _openapi)


def _healthz() -> Response:
    return jsonify({"status": "ok"})


def _readyz() -> tuple[Response, int]:
    checks = current_kit().readiness.checks()
    failing = sorted(name for name, state in checks.items() if state != "ok")
    if failing:
        return jsonify({"status": "unavailable", "checks": checks, "failing": failing}), 503
    return jsonify({"status": "ok", "checks": checks}), 200


def _metrics() -> Response:
    body, content_type = metrics_response()
    return Response(body, content_type=content_type)


def _openapi() -> Response:
    kit = current_kit()
    # Routes are fixed once the app serves, so one build is enough.
    if kit.openapi_document is None:
        kit.openapi_document = build_openapi(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(kit.openapi_document)
