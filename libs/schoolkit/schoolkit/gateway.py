"""The gateway of a local run (DESIGN §7): one port in front of every service's web process.

The docker-compose deployment puts nginx there (deploy/nginx.conf); on a developer's
machine this small asyncio proxy does the same job without installing anything: it reads
the one table of the deployment, deploy/services.toml, and forwards each request, path
and query unchanged, to the web process whose route is the longest prefix of the path.

    schoolkit-gateway        gunicorn (aiohttp worker, uvloop) on 127.0.0.1:<[gateway] port>

Benchmarks go through it, so its cost per request counts. A proxy mostly waits on a
service, and one event loop per process waits on hundreds of requests for the price of
none, with C parsers on both sides (aiohttp's HTTP parser, uvloop's sockets). The
threaded WSGI gateway it replaced, a urllib3 pool under gunicorn's gthread workers, spent
as much CPU on a diary week view as the diary did, and its threads fought the diary's
for the two cores of a small machine.

It logs service names and kinds of failure only: never a query string, a body or a
header value, which may carry personal data or tokens.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import tomllib
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_urldispatcher import _default_expect_handler
from multidict import CIMultiDict
from yarl import URL

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
    {
        "content-length",
        "expect",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-request-id",
    }
)
# Headers aiohttp's client would add on its own; a proxy sends only the client's.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
# As nginx's client_max_body_size: the largest body a client may send through us.
MAX_BODY_BYTES = 20 * 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 60.0
CHUNK_BYTES = 64 * 1024
# One process per core: each runs one event loop, which a proxy's waiting never fills.
WORKERS = 2
# Connections each process keeps open to one service. A gthread service parks idle kept
# connections in its poller, so more of them than it has threads cost it nothing.
CONNECTIONS_PER_SERVICE = 64
# Shorter than the services' own keep-alive (gunicorn's default, 2 s), so the gateway
# drops an idle connection before the service closes it under a request going out on it.
# A GET that meets such a close anyway is asked again by aiohttp; a POST is never repeated.
UPSTREAM_KEEPALIVE_SECONDS = 1.5
# Characters left as they are when a raw request target is re-quoted: everything that
# is legal in a path or a query, including existing %-escapes.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
# What every service serves right under its prefix for operations only (R-PLT-3, R-ROLE-7):
# Prometheus scrapes each process directly, so from outside it is a path nobody serves.
OPS_ONLY = frozenset({"metrics"})


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
    # The clients (the web app at "/") are routed like services: the longest prefix wins,
    # so "/" only gets what no service's prefix claims.
    parts = {**table.get("services", {}), **table.get("clients", {})}
    for service, spec in parts.items():
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


def is_ops_only(route: Route, path: str) -> bool:
    """Whether `path` (decoded) names an operations-only path of the route's service, however
    it is spelled: `/api/x/metrics`, `/api/x//metrics/`, `/api/x/./metrics`."""
    segments = [part for part in path[len(route.prefix) :].split("/") if part not in ("", ".")]
    return bool(segments) and segments[0] in OPS_ONLY


def new_session() -> aiohttp.ClientSession:
    """Connections to the upstreams, shared by every request of one process.

    Reuse is the point. The session keeps no cookies (one user's never reach the next),
    reads no proxy settings or credentials from the environment, adds no header of its
    own and decodes no body: the service's bytes reach the client as they were sent.
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=0,
            limit_per_host=CONNECTIONS_PER_SERVICE,
            keepalive_timeout=UPSTREAM_KEEPALIVE_SECONDS,
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT_SECONDS, sock_read=READ_TIMEOUT_SECONDS
        ),
        auto_decompress=False,
        skip_auto_headers=_NO_AUTO_HEADERS,
        trust_env=False,
        # A service's long header line (a large Set-Cookie) passes, as it did before.
        max_line_size=65536,
        max_field_size=65536,
    )


def request_id_of(headers: Mapping[str, str]) -> str:
    """The caller's X-Request-ID when it is a sane id, otherwise a fresh one."""
    incoming = headers.get("X-Request-ID", "")
    return incoming if SANE_ID.match(incoming) else str(uuid.uuid4())


def request_target(raw_target: str) -> str:
    """Path and query exactly as the client sent them (escapes kept, nothing normalised).

    The decoded path would turn an escaped "/" into a real one, so the raw target is
    re-quoted only where it holds characters that may not appear in one.
    """
    path, question, query = raw_target.partition("?")
    target = quote(path.encode("utf-8", "surrogateescape"), safe=_PATH_SAFE)
    if question and query:
        target += "?" + quote(query.encode("utf-8", "surrogateescape"), safe=_QUERY_SAFE)
    return target


def _connection_tokens(headers: Mapping[str, str]) -> set[str]:
    """Header names a Connection header declares hop-by-hop for this one connection."""
    return {
        token.strip().lower() for token in headers.get("Connection", "").split(",") if token.strip()
    }


def forwarded_headers(request: web.BaseRequest, request_id: str) -> CIMultiDict[str]:
    """The client's headers minus hop-by-hop ones, plus X-Forwarded-* and X-Request-ID.

    The Host header is kept, so a service that builds absolute URLs builds the ones its
    clients use; nginx does the same in the compose deployment.
    """
    client_headers = request.headers
    dropped = HOP_BY_HOP | _REPLACED_REQUEST_HEADERS | _connection_tokens(client_headers)
    headers: CIMultiDict[str] = CIMultiDict(
        (name, value) for name, value in client_headers.items() if name.lower() not in dropped
    )
    client = request.remote or ""
    earlier = ", ".join(client_headers.getall("X-Forwarded-For", ()))
    headers["X-Forwarded-For"] = f"{earlier}, {client}" if earlier else client
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Host"] = request.host
    headers["X-Request-ID"] = request_id
    return headers


async def read_body(request: web.BaseRequest) -> bytes | None:
    """The whole request body (bounded), or None when there is none: JSON bodies are
    small, and a body with a known length lets the service answer without chunked
    decoding."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise BodyTooLarge
    if not request.body_exists:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def response_headers(upstream: aiohttp.ClientResponse, request_id: str) -> CIMultiDict[str]:
    """The upstream's header lines minus hop-by-hop ones, each duplicate kept (Set-Cookie)."""
    dropped = HOP_BY_HOP | _connection_tokens(upstream.headers)
    headers: CIMultiDict[str] = CIMultiDict(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in upstream.raw_headers
        if name.decode("latin-1").lower() not in dropped
    )
    if "X-Request-ID" not in headers:
        headers["X-Request-ID"] = request_id
    return headers


def error_payload(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def json_answer(status: HTTPStatus, payload: Mapping[str, Any], request_id: str) -> web.Response:
    """An answer of the gateway itself, in the services' JSON shape."""
    return web.Response(
        status=status.value,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers={"X-Request-ID": request_id},
    )


class Gateway:
    """The request handler: match a route, forward, stream the answer back."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._session: aiohttp.ClientSession | None = None

    async def connections(self, _app: web.Application) -> AsyncIterator[None]:
        """The upstream session lives as long as the app (aiohttp's cleanup context): it
        must be made inside the running event loop, and closed before the loop ends."""
        self._session = new_session()
        yield
        await self._session.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        request_id = request_id_of(request.headers)
        path = request.path
        if path == "/healthz":
            return json_answer(HTTPStatus.OK, {"status": "ok"}, request_id)
        route = match_route(self.routes, path)
        if route is None or is_ops_only(route, path):
            payload = error_payload("not_found", "no service serves this path")
            return json_answer(HTTPStatus.NOT_FOUND, payload, request_id)
        try:
            body = await read_body(request)
        except BodyTooLarge:
            payload = error_payload(
                "body_too_large", f"bodies are limited to {MAX_BODY_BYTES // 2**20} MiB"
            )
            return json_answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, payload, request_id)
        return await self.forward(route, request, body, request_id)

    async def forward(
        self, route: Route, request: web.Request, body: bytes | None, request_id: str
    ) -> web.StreamResponse:
        """One upstream request; a service that does not answer becomes a JSON 502/504.

        aiohttp itself asks once more for an idempotent request that met a kept-alive
        connection closed under it (RFC 9112 §9.3.1), as nginx's proxy_next_upstream does;
        a POST is never sent twice and gets the 502.
        """
        assert self._session is not None, "the app's cleanup context opens the session"
        raw_target = request.raw_path
        if not raw_target.startswith("/"):  # absolute-form (RFC 9112 §3.2.2): path and query
            raw_target = request.rel_url.raw_path_qs
        url = URL(route.upstream + request_target(raw_target), encoded=True)
        try:
            upstream = await self._session.request(
                request.method,
                url,
                data=body,
                headers=forwarded_headers(request, request_id),
                allow_redirects=False,
            )
        except aiohttp.SocketTimeoutError:
            log.warning("upstream timed out", extra={"upstream_service": route.service})
            payload = error_payload("upstream_timeout", f"{route.service} took too long")
            return json_answer(HTTPStatus.GATEWAY_TIMEOUT, payload, request_id)
        except aiohttp.ClientError as error:
            log.warning(
                "upstream unavailable",
                extra={"upstream_service": route.service, "error_type": type(error).__name__},
            )
            payload = error_payload("upstream_unavailable", f"{route.service} is not answering")
            return json_answer(HTTPStatus.BAD_GATEWAY, payload, request_id)
        try:
            return await self._pass_on(route, request, upstream, request_id)
        finally:
            # Read to the end, the connection goes back to the pool; cut short, it is closed.
            upstream.release()

    async def _pass_on(
        self,
        route: Route,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        request_id: str,
    ) -> web.StreamResponse:
        """The upstream's status, headers and body, the body in chunks as it arrives.

        A client that went away meanwhile is no error: its answer has nowhere to go, and
        aiohttp ends the connection (writing to it raises a ConnectionError).
        """
        response = web.StreamResponse(
            status=upstream.status,
            reason=upstream.reason or _reason_phrase(upstream.status),
            headers=response_headers(upstream, request_id),
        )
        chunks = upstream.content.iter_chunked(CHUNK_BYTES)
        try:
            await response.prepare(request)
            while True:
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except (TimeoutError, aiohttp.ClientError) as error:
                    self._break_off(route, request, error)
                    return response
                await response.write(chunk)
            await response.write_eof()
        except ConnectionError:
            log.debug("client went away", extra={"upstream_service": route.service})
        return response

    @staticmethod
    def _break_off(route: Route, request: web.Request, error: Exception) -> None:
        """The service stopped in the middle of a body. The status line is out: all that
        is left is to end the client's connection, so that it cannot take a cut-short
        body for a whole one."""
        log.warning(
            "upstream broke off an answer",
            extra={"upstream_service": route.service, "error_type": type(error).__name__},
        )
        if request.transport is not None:
            request.transport.close()


def _reason_phrase(code: int) -> str:
    """A reason phrase for a code the upstream sent without one."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


class _NoRequestBytes(logging.Filter):
    """aiohttp logs a request it cannot parse (a header line too long, a byte out of place)
    with a traceback that quotes the request's bytes: a cookie, a token, a query string.
    Such a record names the kind of error only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
            record.msg, record.args = "bad request (%s)", (type(record.exc_info[1]).__name__,)
            record.exc_info = None
        return True


# The server's own logger; passed to aiohttp, it replaces gunicorn's in the worker too.
_server_log = logging.getLogger("schoolkit.gateway.http")
_server_log.addFilter(_NoRequestBytes())


async def _refuse_large_bodies_before_continue(request: web.Request) -> web.StreamResponse | None:
    """A client that asks before sending (Expect: 100-continue) a body over the limit gets
    the 413 at once, as from nginx, instead of an invitation to upload it for nothing."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        payload = error_payload(
            "body_too_large", f"bodies are limited to {MAX_BODY_BYTES // 2**20} MiB"
        )
        answer = json_answer(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, payload, request_id_of(request.headers)
        )
        answer.force_close()  # the body may follow anyway: nothing on this connection is read
        return answer
    return await _default_expect_handler(request)


def create_app(table_path: Path | None = None) -> web.Application:
    """The gateway for the table at `table_path` (default: this checkout's services.toml)."""
    configure_logging("gateway", os.environ.get("LOG_LEVEL") or "INFO")
    table = read_table(table_path or default_table_path())
    gateway = Gateway(routes_from_table(table))
    # Bodies are read by the handler under its own limit; aiohttp's would answer in text.
    app = web.Application(client_max_size=MAX_BODY_BYTES, handler_args={"logger": _server_log})
    app.cleanup_ctx.append(gateway.connections)
    app.router.add_route(
        "*", "/{path:.*}", gateway.handle, expect_handler=_refuse_large_bodies_before_continue
    )
    return app


class BackgroundGateway:
    """The gateway on its own event loop in a thread of this process, on a port of
    loopback: for the tests that put it in front of services they run themselves.

        with BackgroundGateway(table) as url: ...
    """

    def __init__(self, table_path: Path) -> None:
        self._app = create_app(table_path)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> str:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=30)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shut_down(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *_exc_info: object) -> None:
        self.stop()

    async def _serve(self) -> int:
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return int(self._runner.addresses[0][1])

    async def _shut_down(self) -> None:
        """Stop serving, then end what is left on the loop (a client's idle kept-alive
        connection) rather than leave it pending when the loop closes."""
        if self._runner is not None:
            await self._runner.cleanup()
        leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)


def gateway_port(table: Mapping[str, Any]) -> int:
    """GATEWAY_PORT wins over the table, so two checkouts can run side by side."""
    return int(os.environ.get("GATEWAY_PORT") or table["gateway"]["port"])


def gunicorn_argv(port: int) -> list[str]:
    """gunicorn for what it is good at (workers started, watched and restarted, signals),
    aiohttp's worker for the serving; loopback only, since this is a developer's machine."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:schoolkit.heap",  # only its post_worker_init hook
        "--worker-class",
        "aiohttp.GunicornUVLoopWebWorker",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--keep-alive",
        "5",
        "--timeout",
        str(int(READ_TIMEOUT_SECONDS) + 30),
        "--graceful-timeout",
        "20",
        # gunicorn's control socket sits at one path per user, which the services' own
        # gunicorns would fight over; nothing of ours uses it.
        "--no-control-socket",
        "schoolkit.gateway:create_app()",
    ]


def main() -> None:
    """`schoolkit-gateway`: replace this process by gunicorn serving the gateway."""
    argv = gunicorn_argv(gateway_port(read_table(default_table_path())))
    os.execv(argv[0], argv)  # noqa: S606 - our own interpreter, arguments we built


if __name__ == "__main__":
    main()
