"""/healthz, /readyz against the real PostgreSQL and RabbitMQ, /metrics, the request session."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from schoolkit.testing import AMQP_URL, require_rabbitmq

SERVICE_PREFIX = "/api/demo"


@pytest.mark.parametrize("path", ["/healthz", f"{SERVICE_PREFIX}/healthz"])
def test_healthz_says_the_process_is_alive_at_the_root_and_behind_the_gateway(
    app: Flask, path: str
) -> None:
    answer = app.test_client().get(path)
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


def test_readyz_is_200_with_a_real_postgres_database_and_the_real_broker(
    make_app: Callable[..., Flask], postgres_database_url: str
) -> None:
    require_rabbitmq()
    app = make_app(database_url=postgres_database_url, amqp_url=AMQP_URL)
    for path in ("/readyz", f"{SERVICE_PREFIX}/readyz"):
        answer = app.test_client().get(path)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json() == {
            "status": "ok",
            "checks": {"database": "ok", "broker": "ok"},
        }
    app.extensions["schoolkit"].database.dispose()


def test_readyz_is_503_naming_the_broker_when_nothing_listens_on_its_port(
    make_app: Callable[..., Flask], port_factory: Callable[[], int]
) -> None:
    app = make_app(amqp_url=f"amqp://guest:guest@127.0.0.1:{port_factory()}/")
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["failing"] == ["broker"]
    assert body["checks"] == {"database": "ok", "broker": "unavailable"}


def test_readyz_is_503_naming_the_database_when_it_cannot_be_reached(
    make_app: Callable[..., Flask], port_factory: Callable[[], int]
) -> None:
    require_rabbitmq()
    unreachable = f"postgresql+psycopg://postgres@127.0.0.1:{port_factory()}/nothing"
    app = make_app(database_url=unreachable, amqp_url=AMQP_URL)
    answer = app.test_client().get(f"{SERVICE_PREFIX}/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["failing"] == ["database"]


class CountingListener:
    """A TCP port that accepts and hangs up at once: a broker that never answers AMQP."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()


@pytest.fixture
def counting_listener() -> Iterator[CountingListener]:
    listener = CountingListener()
    yield listener
    listener.socket.close()


def test_readyz_asks_the_broker_at_most_once_in_five_seconds(
    make_app: Callable[..., Flask], counting_listener: CountingListener
) -> None:
    app = make_app(amqp_url=f"amqp://guest:guest@127.0.0.1:{counting_listener.port}/")
    client = app.test_client()
    answers = [client.get("/readyz").status_code for _ in range(5)]
    assert answers == [503] * 5
    assert counting_listener.accepted == 1


def test_metrics_label_http_durations_with_the_route_rule_not_the_raw_path(app: Flask) -> None:
    client = app.test_client()
    client.get("/api/demo/v1/items/98765")
    exposition = client.get("/metrics").get_data(as_text=True)
    assert (
        'http_request_duration_seconds_count{method="GET",'
        'route="/api/demo/v1/items/<int:item_id>",status="401"}'
    ) in exposition
    # The raw path (an id) is in no label; the digits alone may occur inside a float.
    assert "/items/98765" not in exposition


def test_metrics_are_served_at_the_root_only_never_under_the_gateway_prefix(app: Flask) -> None:
    """The gateway routes /api/<service>/…, so metrics under it would be public (R-PLT-3)."""
    client = app.test_client()
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    assert "http_request_duration_seconds_bucket" in answer.get_data(as_text=True)
    hidden = client.get(f"{SERVICE_PREFIX}/metrics")
    assert hidden.status_code == 404
    assert hidden.get_json()["error"]["code"] == "not_found"


def test_a_view_that_does_not_commit_leaves_nothing_behind(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/api/demo/v1/tombstones/forget-me").status_code == 201
    assert client.post("/api/demo/v1/tombstones/keep-me").status_code == 201
    assert client.get("/api/demo/v1/tombstones").get_json() == {"subject_ids": ["keep-me"]}


def test_the_request_session_is_closed_when_the_request_ends(app: Flask) -> None:
    app.test_client().get("/api/demo/v1/tombstones")
    [session] = app.config["SESSIONS_SEEN"]
    # A session left open would keep its transaction, and SQLite's lock, until collected.
    assert not session.in_transaction()


def test_a_blueprint_without_its_own_prefix_sits_right_under_the_service_prefix() -> None:
    from flask import Blueprint

    from schoolkit.settings import Settings
    from schoolkit.web import create_service_app

    oauth = Blueprint("oauth", __name__)
    oauth.add_url_rule("/oauth/jwks", "jwks", lambda: {"keys": []})
    versioned = Blueprint("people", __name__, url_prefix="/v1/")
    versioned.add_url_rule("/people", "people", lambda: {"people": []})
    settings = Settings(service="identity", database_url="sqlite://")
    client = create_service_app(settings, blueprints=[oauth, versioned]).test_client()
    assert client.get("/api/identity/oauth/jwks").get_json() == {"keys": []}
    assert client.get("/api/identity/v1/people").get_json() == {"people": []}
