"""The local gateway (schoolkit.gateway) in front of real HTTP servers on loopback.

Two tiny upstream services answer with what they received; the gateway runs under a
real HTTP server, and every check goes through it with `requests`, as a client would.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from schoolkit.gateway import (
    MAX_BODY_BYTES,
    BackgroundGateway,
    is_ops_only,
    match_route,
    routes_from_table,
)
from schoolkit.testing import free_port, wait_until_answering


class KeepAliveHandler(BaseHTTPRequestHandler):
    """An upstream that keeps connections open, as gunicorn does (werkzeug's server
    closes every connection, so it cannot show whether the gateway reuses them)."""

    protocol_version = "HTTP/1.1"
    client_ports: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        type(self).client_ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Upstream:
    """A service stand-in that answers with what it received."""

    name: str
    paths: list[str] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.paths.append(request.path)
        if request.path.endswith("/redirect"):
            response = Response(status=302, headers={"Location": "/elsewhere"})
        elif request.path.endswith("/cookies"):
            response = Response(b"{}", content_type="application/json")
            response.headers.add("Set-Cookie", "first=1; Path=/")
            response.headers.add("Set-Cookie", "second=2; Path=/")
        elif request.path.endswith("/large"):
            response = Response(b"x" * 300_000, content_type="application/octet-stream")
        elif request.path.endswith("/slow"):
            time.sleep(0.5)
            response = Response(b"{}", content_type="application/json")
        elif request.path.endswith("/week"):
            # As the diary answers a phone that polls: 304 while its copy is current.
            response = Response(b'{"week": 1}', content_type="application/json")
            response.set_etag("week-1")
            response.make_conditional(request)
        else:
            seen = {
                "service": self.name,
                "method": request.method,
                "target": environ.get("REQUEST_URI"),
                "body": request.get_data(as_text=True),
                "headers": dict(request.headers),
            }
            status = int(request.args.get("status", "200"))
            response = Response(json.dumps(seen), status=status, content_type="application/json")
        return response(environ, start_response)


def call(method: str, url: str, **options: Any) -> requests.Response:
    """One request as a client makes it, on a fresh connection, never waiting forever."""
    return requests.request(method, url, timeout=30, **options)


def serve(app: Any) -> BaseWSGIServer:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_table(path: Path, gateway_port: int, services: dict[str, tuple[int, list[str]]]) -> Path:
    lines = ["[gateway]", f"port = {gateway_port}", ""]
    for name, (port, routes) in services.items():
        lines += [
            f"[services.{name}]",
            f"web_port = {port}",
            f"worker_metrics_port = {free_port()}",
            f"routes = {json.dumps(routes)}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


@dataclass
class Setup:
    url: str
    alpha: Upstream
    beta: Upstream


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    alpha, beta = Upstream("alpha"), Upstream("beta")
    alpha_server = serve(alpha)
    beta_server = serve(beta)
    keep_alive_server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveHandler)
    threading.Thread(target=keep_alive_server.serve_forever, daemon=True).start()
    table = write_table(
        tmp_path_factory.mktemp("gateway") / "services.toml",
        free_port(),
        {
            "alpha": (alpha_server.server_port, ["/api/alpha/", "/console"]),
            "beta": (beta_server.server_port, ["/api/beta/", "/api/alpha/special/"]),
            "gamma": (free_port(), ["/api/gamma/"]),
            "delta": (keep_alive_server.server_port, ["/api/delta/"]),
        },
    )
    with BackgroundGateway(table) as url:
        yield Setup(url, alpha, beta)
    for server in (alpha_server, beta_server, keep_alive_server):
        server.shutdown()
        server.server_close()


def test_requests_go_to_the_service_of_the_longest_matching_prefix(setup: Setup) -> None:
    assert call("GET", f"{setup.url}/api/alpha/v1/things").json()["service"] == "alpha"
    assert call("GET", f"{setup.url}/api/beta/v1/things").json()["service"] == "beta"
    assert call("GET", f"{setup.url}/api/alpha/special/x").json()["service"] == "beta"
    assert call("GET", f"{setup.url}/console/people").json()["service"] == "alpha"


def test_path_and_query_arrive_unchanged(setup: Setup) -> None:
    target = "/api/alpha/v1/people/a%2Fb/marks?kind=student&q=%D0%98%20x&empty=&flag"
    seen = call("GET", setup.url + target).json()
    assert seen["target"] == target
    assert seen["method"] == "GET"


def test_bodies_methods_and_statuses_pass_through(setup: Setup) -> None:
    created = call(
        "POST", f"{setup.url}/api/beta/v1/marks?status=201", json={"value": 5, "note": "Отлично"}
    )
    assert created.status_code == 201
    seen = created.json()
    assert seen["method"] == "POST"
    assert json.loads(seen["body"]) == {"value": 5, "note": "Отлично"}
    assert seen["headers"]["Content-Type"] == "application/json"

    rejected = call("PUT", f"{setup.url}/api/alpha/v1/x?status=422", data=b"\x00\x01binary")
    assert rejected.status_code == 422
    assert rejected.json()["body"] == "\x00\x01binary"
    assert call("DELETE", f"{setup.url}/api/alpha/v1/x?status=204").status_code == 204

    head = call("HEAD", f"{setup.url}/api/alpha/v1/x")
    assert head.status_code == 200
    assert head.content == b""


def test_a_chunked_upload_arrives_whole(setup: Setup) -> None:
    parts = (part.encode() for part in ["first,", "second,", "third"])
    seen = call("POST", f"{setup.url}/api/alpha/v1/imports", data=parts).json()
    assert seen["body"] == "first,second,third"


def test_redirects_are_passed_to_the_client_not_followed(setup: Setup) -> None:
    answer = call("GET", f"{setup.url}/api/alpha/redirect", allow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/elsewhere"


def test_a_request_id_is_added_when_absent_and_kept_when_given(setup: Setup) -> None:
    fresh = call("GET", f"{setup.url}/api/alpha/v1/x")
    generated = fresh.json()["headers"]["X-Request-Id"]
    assert len(generated) >= 16
    assert fresh.headers["X-Request-ID"] == generated

    kept = call("GET", f"{setup.url}/api/alpha/v1/x", headers={"X-Request-ID": "req-42.abc"})
    assert kept.json()["headers"]["X-Request-Id"] == "req-42.abc"

    insane = call("GET", f"{setup.url}/api/alpha/v1/x", headers={"X-Request-ID": "a b\tc"})
    assert insane.json()["headers"]["X-Request-Id"] != "a b\tc"


def test_forwarding_headers_are_added_and_hop_by_hop_ones_dropped(setup: Setup) -> None:
    seen = call(
        "GET",
        f"{setup.url}/api/alpha/v1/x",
        headers={
            "Connection": "keep-alive, X-Hop-Secret",
            "X-Hop-Secret": "1",
            "Proxy-Authorization": "Basic Zm9vOmJhcg==",
            "X-Forwarded-For": "203.0.113.7",
            "Authorization": "Bearer token-for-the-service",
        },
    ).json()["headers"]
    assert seen["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-Host"] == setup.url.removeprefix("http://")
    assert seen["Host"] == setup.url.removeprefix("http://")
    assert seen["Authorization"] == "Bearer token-for-the-service"
    assert "X-Hop-Secret" not in seen
    assert "Proxy-Authorization" not in seen


def test_response_header_lines_are_kept_and_cookies_never_shared(setup: Setup) -> None:
    answer = call("GET", f"{setup.url}/api/alpha/cookies")
    assert answer.raw.headers.getlist("Set-Cookie") == ["first=1; Path=/", "second=2; Path=/"]
    # A fresh client, no cookies of its own: the gateway must not lend it the first one's.
    seen = call("GET", f"{setup.url}/api/alpha/v1/x").json()["headers"]
    assert "Cookie" not in seen


def test_large_answers_stream_through_whole(setup: Setup) -> None:
    answer = call("GET", f"{setup.url}/api/alpha/large")
    assert answer.status_code == 200
    assert answer.content == b"x" * 300_000


def test_a_conditional_get_gets_the_services_304_with_no_body(setup: Setup) -> None:
    first = call("GET", f"{setup.url}/api/alpha/v1/week")
    assert first.status_code == 200
    assert first.json() == {"week": 1}
    etag = first.headers["ETag"]
    again = call("GET", f"{setup.url}/api/alpha/v1/week", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag


def send_raw(setup: Setup, request: bytes) -> tuple[str, bytes]:
    """One request as bytes on its own connection: the first line of the answer (a
    "100 Continue" included, which http.client would skip) and the rest of it."""
    port = int(setup.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received and (chunk := client.recv(65536)):
            received += chunk
        client.settimeout(1.0)
        try:
            while chunk := client.recv(65536):
                received += chunk
        except TimeoutError:
            pass  # a kept-alive connection: the answer is in
    status_line, _, rest = received.partition(b"\r\n")
    return status_line.decode("latin-1"), rest


def test_a_body_over_the_limit_gets_a_json_413_and_is_not_forwarded(setup: Setup) -> None:
    # Only the headers are sent: the gateway must refuse on the declared length alone.
    status_line, rest = send_raw(
        setup,
        b"POST /api/alpha/v1/huge-import HTTP/1.1\r\nHost: gateway\r\n"
        b"Content-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1),
    )
    assert status_line.split()[1] == "413"
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "body_too_large"
    assert not [path for path in setup.alpha.paths if path.endswith("/huge-import")]


def test_a_client_that_asks_before_sending_too_much_gets_413_not_continue(setup: Setup) -> None:
    status_line, _ = send_raw(
        setup,
        b"POST /api/alpha/v1/huge-upload HTTP/1.1\r\nHost: gateway\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1),
    )
    assert status_line.split()[1] == "413"  # not "100 Continue", then 413
    status_line, rest = send_raw(
        setup,
        b"POST /api/alpha/v1/x HTTP/1.1\r\nHost: gateway\r\nExpect: 100-continue\r\n"
        b"Connection: close\r\nContent-Length: 2\r\n\r\n{}",
    )
    assert status_line.split()[1] == "100"  # a small body is welcome
    assert b"HTTP/1.1 200" in rest


def test_an_absolute_form_target_goes_to_its_service_as_a_path(setup: Setup) -> None:
    status_line, rest = send_raw(
        setup,
        b"GET http://gateway/api/alpha/v1/x?a=1 HTTP/1.1\r\nHost: gateway\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert status_line.split()[1] == "200"
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["target"] == "/api/alpha/v1/x?a=1"


def test_every_forwarded_for_line_is_kept_in_order(setup: Setup) -> None:
    _, rest = send_raw(
        setup,
        b"GET /api/alpha/v1/x HTTP/1.1\r\nHost: gateway\r\nX-Forwarded-For: 198.51.100.1\r\n"
        b"X-Forwarded-For: 198.51.100.2\r\nConnection: close\r\n\r\n",
    )
    seen = json.loads(rest.split(b"\r\n\r\n", 1)[1])["headers"]
    assert seen["X-Forwarded-For"] == "198.51.100.1, 198.51.100.2, 127.0.0.1"


def test_a_request_it_cannot_parse_is_refused_without_logging_its_bytes(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "session-of-a-guardian-5f1c"
    status_line, _ = send_raw(
        setup,
        b"GET /api/alpha/v1/x?name=secret-query HTTP/1.1\r\nHost: gateway\r\n"
        + f"Cookie: s={secret}; pad={'x' * 9000}\r\n\r\n".encode(),
    )
    assert status_line.split()[1] in {"400", "431"}
    assert caplog.records, "the refusal is logged"  # its kind, never the request's bytes
    assert secret not in caplog.text  # the records with their tracebacks
    assert "secret-query" not in caplog.text


def test_a_client_that_leaves_before_its_answer_is_no_error(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    port = int(setup.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(b"GET /api/alpha/v1/slow HTTP/1.1\r\nHost: gateway\r\n\r\n")
    time.sleep(1.0)  # the service answers after 0.5 s, to a client that has gone
    assert [record.getMessage() for record in caplog.records if record.levelno >= 40] == []
    assert call("GET", f"{setup.url}/api/alpha/v1/x").status_code == 200


def test_connections_to_a_service_are_reused(setup: Setup) -> None:
    before = len(KeepAliveHandler.client_ports)
    for _ in range(5):
        assert call("GET", f"{setup.url}/api/delta/v1/ping").status_code == 200
    ports = KeepAliveHandler.client_ports[before:]
    assert len(ports) == 5
    assert len(set(ports)) == 1


def test_unknown_paths_get_a_json_404(setup: Setup) -> None:
    for path in ("/", "/api/unknown/v1/x", "/api/alpha", "/metrics"):
        answer = call("GET", setup.url + path)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json()["error"]["code"] == "not_found"


def test_metrics_of_a_service_are_not_reachable_through_the_gateway(setup: Setup) -> None:
    """R-PLT-3: Prometheus scrapes each process directly; from outside, a service's metrics
    are a path nobody serves, however the path is spelled."""
    before = list(setup.alpha.paths)
    for path in (
        "/api/alpha/metrics",
        "/api/alpha/metrics/",
        "/api/alpha//metrics",
        "/api/alpha/./metrics",
        "/api/alpha/%6Detrics",
        "/api/alpha/metrics?name=up",
        "/api/beta/metrics",
        "/console/metrics",
    ):
        answer = call("GET", setup.url + path)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json()["error"]["code"] == "not_found", path
    assert setup.alpha.paths == before  # nothing reached the service
    # A service's own path that merely contains the word still passes.
    assert call("GET", f"{setup.url}/api/alpha/v1/metrics").json()["service"] == "alpha"


def test_a_service_that_is_down_gets_a_json_502_naming_it(setup: Setup) -> None:
    answer = call("POST", f"{setup.url}/api/gamma/v1/x", json={"a": 1})
    assert answer.status_code == 502
    assert answer.json() == {
        "error": {"code": "upstream_unavailable", "message": "gamma is not answering"}
    }
    assert answer.headers["X-Request-ID"]


def test_the_gateway_answers_its_own_healthz(setup: Setup) -> None:
    answer = call("GET", f"{setup.url}/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_the_console_script_serves_the_table_of_school_root(tmp_path: Path) -> None:
    """`schoolkit-gateway` as `make up` starts it: gunicorn, port from GATEWAY_PORT."""
    upstream = Upstream("alpha")
    server = serve(upstream)
    (tmp_path / "deploy").mkdir()
    write_table(
        tmp_path / "deploy" / "services.toml", 1, {"alpha": (server.server_port, ["/api/alpha/"])}
    )
    port = free_port()
    environment = {**os.environ, "SCHOOL_ROOT": str(tmp_path), "GATEWAY_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from schoolkit.gateway import main; main()"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        try:
            # Bound before it answers: on a busy machine gunicorn's worker takes a while.
            wait_until_answering(port, timeout=30)
        except TimeoutError:
            pytest.fail("the gateway exited" if process.poll() is not None else "it did not start")
        assert call("GET", f"{url}/api/alpha/v1/x?a=1").json()["target"] == "/api/alpha/v1/x?a=1"
        posted = call("POST", f"{url}/api/alpha/v1/x?status=201", json={"mark": 5})
        assert posted.status_code == 201
        assert json.loads(posted.json()["body"]) == {"mark": 5}
        chunked = call("POST", f"{url}/api/alpha/v1/x", data=(b"a" * 10 for _ in range(3)))
        assert chunked.json()["body"] == "a" * 30
    finally:
        process.terminate()
        process.wait(timeout=30)
        server.shutdown()
        server.server_close()


class ClosesKeptConnections(socketserver.StreamRequestHandler):
    """An upstream whose keep-alive runs out just as the next request arrives: it answers
    the first request of each connection and closes on the second, unanswered, as a
    gunicorn closing an idle connection does when a request crosses the close."""

    seen: ClassVar[list[tuple[int, str]]] = []  # (connection, method), in order

    def handle(self) -> None:
        connection = id(self)
        while method := self._read_request():
            type(self).seen.append((connection, method))
            if len([c for c, _ in type(self).seen if c == connection]) > 1:
                return  # closed with no answer
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
            )

    def _read_request(self) -> str:
        request_line = self.rfile.readline()
        if not request_line.strip():
            return ""
        length = 0
        while (line := self.rfile.readline()).strip():
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        self.rfile.read(length)
        return request_line.split()[0].decode()


class UnjoinedServer(socketserver.ThreadingTCPServer):
    # The gateway's pool keeps its last connection open: closing the server must not
    # wait for the thread that reads from it.
    daemon_threads = True
    block_on_close = False


@pytest.fixture
def closing_upstream(tmp_path: Path) -> Iterator[str]:
    ClosesKeptConnections.seen = []
    upstream = UnjoinedServer(("127.0.0.1", 0), ClosesKeptConnections)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    table = write_table(
        tmp_path / "services.toml", free_port(), {"alpha": (upstream.server_address[1], ["/api/"])}
    )
    with BackgroundGateway(table) as url:
        yield f"{url}/api/alpha/v1/x"
    upstream.shutdown()
    upstream.server_close()


def test_a_get_that_meets_a_connection_closed_under_it_is_asked_again(
    closing_upstream: str,
) -> None:
    assert call("GET", closing_upstream).status_code == 200
    again = call("GET", closing_upstream)  # goes out on the kept connection, which closes
    assert again.status_code == 200
    connections = [connection for connection, _ in ClosesKeptConnections.seen]
    assert len(connections) == 3
    assert len(set(connections)) == 2  # the third request went on a new connection


def test_a_post_that_meets_a_connection_closed_under_it_is_not_sent_twice(
    closing_upstream: str,
) -> None:
    assert call("GET", closing_upstream).status_code == 200
    posted = call("POST", closing_upstream, json={"mark": 5})
    assert posted.status_code == 502
    assert posted.json()["error"]["code"] == "upstream_unavailable"
    assert [method for _, method in ClosesKeptConnections.seen] == ["GET", "POST"]


class BreaksOffAnswers(socketserver.StreamRequestHandler):
    """An upstream that dies in the middle of an answer: it promises 1,000 bytes, sends
    ten and closes, as a service process killed while it writes would."""

    def handle(self) -> None:
        while self.rfile.readline().strip():
            pass
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")


def test_an_answer_the_service_breaks_off_is_never_passed_on_as_whole(tmp_path: Path) -> None:
    upstream = UnjoinedServer(("127.0.0.1", 0), BreaksOffAnswers)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    table = write_table(
        tmp_path / "services.toml", free_port(), {"alpha": (upstream.server_address[1], ["/api/"])}
    )
    try:
        with (
            BackgroundGateway(table) as url,
            pytest.raises(requests.exceptions.ChunkedEncodingError),
        ):
            call("GET", f"{url}/api/alpha/v1/x")
    finally:
        upstream.shutdown()
        upstream.server_close()


def test_the_web_app_at_the_root_gets_only_what_no_service_claims() -> None:
    """[clients.web] at "/": the longest prefix still wins, and the web app's own /metrics
    is refused as every service's is (R-PLT-3)."""
    table = {
        "services": {"diary": {"web_port": 1, "routes": ["/api/diary/"]}},
        "clients": {"web": {"web_port": 2, "routes": ["/"]}},
    }
    routes = routes_from_table(table)
    assert match_route(routes, "/api/diary/v1/calendar").service == "diary"  # type: ignore[union-attr]
    web = match_route(routes, "/students/x/week")
    assert web is not None and web.service == "web" and web.upstream.endswith(":2")
    root = match_route(routes, "/metrics")
    assert root is not None and is_ops_only(root, "/metrics")
    assert not is_ops_only(root, "/students/metrics")
    with pytest.raises(ValueError, match="belongs to"):
        routes_from_table({**table, "services": {"x": {"web_port": 3, "routes": ["/"]}}})
