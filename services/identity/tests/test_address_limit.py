"""Too many failed logins from one address refuse that address, and only it (issue 3 §3)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import requests
from werkzeug.serving import make_server

from identity.app import create_app
from identity.oauth.addresses import MAX_FAILURES, client_address
from schoolkit.settings import Settings

from .conftest import SCHOOL, Provider

PASSWORD = "Длинный пароль 2025"
ATTACKER = "203.0.113.66"
NEIGHBOUR = "198.51.100.7"


def login_from(url: str, address: str, login: str, password: str) -> requests.Response:
    form = {
        "grant_type": "password",
        "username": login,
        "password": password,
        "client_id": "web",
        "school_id": SCHOOL,
    }
    # The tests are the gateway here: loopback is a trusted proxy that names the client.
    headers = {"X-Forwarded-For": address}
    return requests.post(f"{url}/api/identity/oauth/token", data=form, headers=headers, timeout=10)


@pytest.fixture
def second_worker(provider: Provider) -> Iterator[str]:
    """Another web process on the same database, as a second gunicorn worker would be."""
    settings = Settings.from_env("identity", database_url=str(provider.database.engine.url))
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_an_address_with_too_many_failures_is_refused_in_every_worker_while_others_sign_in(
    provider: Provider, second_worker: str, make_person: Callable
) -> None:
    make_person(login="pupil")
    failures = [
        login_from(
            (provider.url, second_worker)[attempt % 2], ATTACKER, f"guess-{attempt}", "wrong one"
        )
        for attempt in range(MAX_FAILURES)
    ]
    refused = [
        login_from(url, ATTACKER, "pupil", PASSWORD) for url in (provider.url, second_worker)
    ]
    assert {(a.status_code, a.text) for a in failures + refused} == {
        (failures[0].status_code, failures[0].text)
    }
    assert failures[0].status_code == 400
    assert login_from(provider.url, NEIGHBOUR, "pupil", PASSWORD).status_code == 200


def test_fewer_failures_than_the_limit_leave_the_address_alone(
    provider: Provider, make_person: Callable
) -> None:
    make_person(login="pupil")
    for attempt in range(MAX_FAILURES - 1):
        login_from(provider.url, ATTACKER, f"guess-{attempt}", "wrong one")
    assert login_from(provider.url, ATTACKER, "pupil", PASSWORD).status_code == 200


def test_the_client_address_comes_from_a_trusted_proxy_only(provider: Provider) -> None:
    app = create_app(Settings.from_env("identity", database_url=str(provider.database.engine.url)))
    spoofed = {"X-Forwarded-For": "192.0.2.1"}
    with app.test_request_context(environ_base={"REMOTE_ADDR": ATTACKER}, headers=spoofed):
        assert client_address() == ATTACKER
    through_gateway = {"X-Forwarded-For": f"192.0.2.1, {ATTACKER}"}
    with app.test_request_context(
        environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers=through_gateway
    ):
        assert client_address() == ATTACKER
