"""The gateway of a local run (DESIGN §7): one port in front of every service's web process.

The docker-compose deployment puts nginx there (deploy/nginx.conf); on a developer's
machine this small WSGI app does the same job without installing anything: it reads the
one table of the deployment, deploy/services.toml, and forwards each request, path and
query unchanged, to the web process whose route is the longest prefix of the path.

    schoolkit-gateway        gunicorn (gthread) on 127.0.0.1:<[gateway] port or GATEWAY_PORT>

Benchmarks go through it, so it keeps one urllib3 connection pool per process and reads
upstream answers as a stream. urllib3 rather than requests: requests' session machinery
(merging settings, cookies, hooks) was half the gateway's own CPU per request (235 us
above a bare urllib3 GET, now 114 us), and a proxy needs none of it. It logs service names and kinds of failure only: never a
query string, a body or a header value, which may carry personal data or tokens.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tomllib
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote
from wsgiref.types import StartResponse, WSGIEnvironment

import urllib3
from urllib3.exceptions import HTTPError as UpstreamError
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from schoolkit.context import SANE_ID
from schoolkit.logs import configure_logging
from schoolkit.settings import project_root

log = logging.getLogger("schoolkit.gateway")

# Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Request headers the gateway sets itself: the body is re-sent whole (so its length is
# recomputed and nothing waits for "100 Continue"), and the forwarding headers are ours.
_REPLACED_REQUEST_HEADERS = frozenset(
    {"content-length", "expect", "x-forwarded-proto", "x-forwarded-host", "x-request-id"}
)
# Methods whose request may be sent twice with the effect of once (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# As nginx's client_max_body_size: the largest body a client may send through us.
MAX_BODY_BYTES = 20 * 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 60.0
CHUNK_BYTES = 64 * 1024
# Threads per gunicorn worker; also the connections each worker keeps per upstream.
THREADS = 16
WORKERS = 2
# Characters left as they are when a raw request target is re-quoted: everything that
# is legal in a path or a query, including existing %-escapes.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True)
class Route:
    """A path prefix of the service table and where its requests go."""

    prefix: str
    service: str
    upstream: str  # scheme://host:port, no trailing slash


class BodyTooLarge(Exception):
    """The client sent more than MAX_BODY_BYTES: refused before anything is forwarded."""


def default_table_path() -> Path:
    """The service table of this checkout (or of $SCHOOL_ROOT), read by `make up` too."""
    return project_root() / "deploy" / "services.toml"


def read_table(path: Path) -> dict[str, Any]:
    """The service table as a dict: the gateway has no configuration of its own."""
    with path.open("rb") as table_file:
        return tomllib.load(table_file)


def routes_from_table(table: Mapping[str, Any], host: str = "127.0.0.1") -> list[Route]:
    """Every route of every service, longest prefix first, so the first match is the best.

    A prefix claimed by two services would make routing depend on file order: refused.
    """
    routes: list[Route] = []
    owners: dict[str, str] = {}
    for service, spec in table.get("services", {}).items():
        upstream = f"http://{host}:{int(spec['web_port'])}"
        for prefix in spec.get("routes", []):
            if not prefix.startswith("/"):
                raise ValueError(f"route {prefix!r} of {service} must start with '/'")
            if prefix in owners:
                raise ValueError(f"route {prefix!r} belongs to {owners[prefix]} and {service}")
            owners[prefix] = service
            routes.append(Route(prefix, service, upstream))
    return sorted(routes, key=lambda route: len(route.prefix), reverse=True)


def match_route(routes: Iterable[Route], path: str) -> Route | None:
    """The route whose prefix is the longest one of `path` (routes come longest first)."""
    return next((route for route in routes if path.startswith(route.prefix)), None)


def new_pool(pool_size: int = THREADS) -> urllib3.PoolManager:
    """Connections to the upstreams, shared by the threads of one process.

    Reuse is the point. urllib3 keeps no cookies (one user's never reach the next), reads
    no proxy settings or credentials from the environment and adds no default headers;
    it retries nothing and follows no redirect, so the client sees what the service said.
    """
    return urllib3.PoolManager(
        num_pools=16,
        maxsize=pool_size,
        retries=False,
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
    )


def request_id_of(environ: WSGIEnvironment) -> str:
    """The caller's X-Request-ID when it is a sane id, otherwise a fresh one."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    return incoming if SANE_ID.match(incoming) else str(uuid.uuid4())


def request_target(environ: WSGIEnvironment) -> str:
    """Path and query exactly as the client sent them (escapes kept, nothing normalised).

    PATH_INFO is already %-decoded, so re-quoting it would turn an escaped "/" into a real
    one; the raw target is used when the server gives it (gunicorn and werkzeug do).
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if raw.startswith("/"):
        path = raw.split("?", 1)[0]
    else:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    target = quote(path.encode("latin-1"), safe=_PATH_SAFE)
    query = environ.get("QUERY_STRING", "")
    if query:
        target += "?" + quote(query.encode("latin-1"), safe=_QUERY_SAFE)
    return target


def forwarded_headers(environ: WSGIEnvironment, request_id: str) -> dict[str, str]:
    """The client's headers minus hop-by-hop ones, plus X-Forwarded-* and X-Request-ID.

    The Host header is kept, so a service that builds absolute URLs builds the ones its
    clients use; nginx does the same in the compose deployment.
    """
    connection_tokens = {
        token.strip().lower()
        for token in environ.get("HTTP_CONNECTION", "").split(",")
        if token.strip()
    }
    dropped = HOP_BY_HOP | _REPLACED_REQUEST_HEADERS | connection_tokens
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key == "CONTENT_TYPE" and value:
            name = "Content-Type"
        else:
            continue
        if name.lower() not in dropped:
            headers[name] = value
    client = environ.get("REMOTE_ADDR", "")
    earlier = environ.get("HTTP_X_FORWARDED_FOR", "")
    headers["X-Forwarded-For"] = f"{earlier}, {client}" if earlier else client
    headers["X-Forwarded-Proto"] = environ.get("wsgi.url_scheme", "http")
    headers["X-Forwarded-Host"] = environ.get("HTTP_HOST") or (
        f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    )
    headers["X-Request-ID"] = request_id
    return headers


def read_body(environ: WSGIEnvironment) -> bytes:
    """The whole request body (bounded): JSON bodies are small, and a body with a known
    length lets the upstream answer without chunked decoding."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH") or ""
    if length:
        size = int(length)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        return bytes(stream.read(size)) if size > 0 else b""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked or environ.get("wsgi.input_terminated"):
        body = bytes(stream.read(MAX_BODY_BYTES + 1))
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
        return body
    return b""


def response_headers(upstream: urllib3.BaseHTTPResponse, request_id: str) -> list[tuple[str, str]]:
    """The upstream's header lines minus hop-by-hop ones, each duplicate kept (Set-Cookie)."""
    raw_headers = upstream.headers
    connection_tokens = {
        token.strip().lower()
        for token in raw_headers.get("Connection", "").split(",")
        if token.strip()
    }
    dropped = HOP_BY_HOP | connection_tokens
    lines = [
        (name, value) for name, value in raw_headers.iteritems() if name.lower() not in dropped
    ]
    if "X-Request-ID" not in raw_headers:
        lines.append(("X-Request-ID", request_id))
    return lines


def status_line(code: int, reason: str | None) -> str:
    """A WSGI status line; an upstream may send a code without a reason phrase."""
    if not reason:
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "Unknown"
    return f"{code} {reason}"


class StreamedBody:
    """The upstream body passed on in chunks as it arrives, neither decoded nor buffered.

    close() is what the WSGI server calls when the client has the answer or went away.
    A body read to the end has already given its connection back to the pool (urllib3
    does so at the end of the stream), so closing keeps it there for the next request;
    a body cut short leaves the connection mid-message, and closing drops it.
    """

    def __init__(self, upstream: urllib3.BaseHTTPResponse) -> None:
        self._upstream = upstream

    def __iter__(self) -> Iterator[bytes]:
        return self._upstream.stream(CHUNK_BYTES, decode_content=False)

    def close(self) -> None:
        self._upstream.close()
        self._upstream.release_conn()


def json_answer(
    start_response: StartResponse,
    status: HTTPStatus,
    payload: Mapping[str, Any],
    request_id: str,
) -> list[bytes]:
    """An answer of the gateway itself, in the services' JSON shape."""
    body = json.dumps(payload).encode()
    start_response(
        status_line(status.value, status.phrase),
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Request-ID", request_id),
        ],
    )
    return [body]


def error_payload(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class Gateway:
    """The WSGI app: match a route, forward, stream the answer back."""

    def __init__(self, routes: list[Route], pool: urllib3.PoolManager) -> None:
        self.routes = routes
        self.pool = pool

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request_id = request_id_of(environ)
        path = environ.get("PATH_INFO", "") or "/"
        if path == "/healthz":
            return json_answer(start_response, HTTPStatus.OK, {"status": "ok"}, request_id)
        route = match_route(self.routes, path)
        if route is None:
            payload = error_payload("not_found", "no service serves this path")
            return json_answer(start_response, HTTPStatus.NOT_FOUND, payload, request_id)
        try:
            body = read_body(environ)
        except BodyTooLarge:
            payload = error_payload(
                "body_too_large", f"bodies are limited to {MAX_BODY_BYTES // 2**20} MiB"
            )
            return json_answer(
                start_response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, payload, request_id
            )
        except ValueError:
            payload = error_payload("bad_request", "Content-Length is not a number")
            return json_answer(start_response, HTTPStatus.BAD_REQUEST, payload, request_id)
        return self.forward(route, environ, body, request_id, start_response)

    def forward(
        self,
        route: Route,
        environ: WSGIEnvironment,
        body: bytes,
        request_id: str,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """One upstream request; a service that does not answer becomes a JSON 502/504."""
        try:
            upstream = self.send(
                environ["REQUEST_METHOD"],
                route.upstream + request_target(environ),
                body,
                forwarded_headers(environ, request_id),
            )
        except ReadTimeoutError:
            log.warning("upstream timed out", extra={"upstream_service": route.service})
            payload = error_payload("upstream_timeout", f"{route.service} took too long")
            return json_answer(start_response, HTTPStatus.GATEWAY_TIMEOUT, payload, request_id)
        except UpstreamError as error:
            log.warning(
                "upstream unavailable",
                extra={"upstream_service": route.service, "error_type": type(error).__name__},
            )
            payload = error_payload("upstream_unavailable", f"{route.service} is not answering")
            return json_answer(start_response, HTTPStatus.BAD_GATEWAY, payload, request_id)
        start_response(
            status_line(upstream.status, upstream.reason),
            response_headers(upstream, request_id),
        )
        return StreamedBody(upstream)

    def send(
        self, method: str, url: str, body: bytes, headers: dict[str, str]
    ) -> urllib3.BaseHTTPResponse:
        """The upstream's answer, asking once more for an idempotent request that met a
        kept-alive connection closed under it.

        gunicorn closes a connection that sat idle for its keep-alive time; when that
        happens just as a request goes out on it, the connection ends with no answer
        (ProtocolError). The benchmark's load met it about once in 13,000 requests, each a
        502 for a client. Like nginx (proxy_next_upstream), only methods that may be
        repeated are sent again, on another connection; a POST gets the 502.
        """
        try:
            return self._send_once(method, url, body, headers)
        except ProtocolError:
            if method not in IDEMPOTENT_METHODS:
                raise
            log.info("upstream closed a kept-alive connection; asking again")
            return self._send_once(method, url, body, headers)

    def _send_once(
        self, method: str, url: str, body: bytes, headers: dict[str, str]
    ) -> urllib3.BaseHTTPResponse:
        return self.pool.urlopen(
            method, url, body=body, headers=headers, preload_content=False, redirect=False
        )


def create_app(table_path: Path | None = None) -> Gateway:
    """The gateway for the table at `table_path` (default: this checkout's services.toml)."""
    configure_logging("gateway", os.environ.get("LOG_LEVEL") or "INFO")
    table = read_table(table_path or default_table_path())
    return Gateway(routes_from_table(table), new_pool())


def gateway_port(table: Mapping[str, Any]) -> int:
    """GATEWAY_PORT wins over the table, so two checkouts can run side by side."""
    return int(os.environ.get("GATEWAY_PORT") or table["gateway"]["port"])


def gunicorn_argv(port: int) -> list[str]:
    """gthread: each thread mostly waits on an upstream, so threads are the cheap way to
    keep many requests in flight; loopback only, since this is a developer's machine."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:schoolkit.heap",  # only its post_worker_init hook
        "--worker-class",
        "gthread",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--bind",
        f"127.0.0.1:{port}",
        "--keep-alive",
        "5",
        "--timeout",
        str(int(READ_TIMEOUT_SECONDS) + 30),
        "--graceful-timeout",
        "20",
        "schoolkit.gateway:create_app()",
    ]


def main() -> None:
    """`schoolkit-gateway`: replace this process by gunicorn serving the gateway."""
    argv = gunicorn_argv(gateway_port(read_table(default_table_path())))
    os.execv(argv[0], argv)  # noqa: S606 - our own interpreter, arguments we built


if __name__ == "__main__":
    main()
