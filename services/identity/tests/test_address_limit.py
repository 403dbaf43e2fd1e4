"""Too many failed logins from one address refuse that address, and only it (issue 3 §3)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server

from identity.app import create_app
from identity.models import AuditEntry
from identity.oauth.addresses import MAX_FAILURES, client_address
from schoolkit.gateway import BackgroundGateway
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


@pytest.fixture
def gateway(provider: Provider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The local gateway in front of identity; only it (127.0.0.1) is a trusted proxy, so
    clients on other loopback addresses stand for addresses on the internet."""
    monkeypatch.setenv("IDENTITY_TRUSTED_PROXIES", "127.0.0.1/32")
    port = int(provider.url.rsplit(":", 1)[1])
    table = tmp_path / "services.toml"
    table.write_text(f'[services.identity]\nweb_port = {port}\nroutes = ["/api/identity/"]\n')
    with BackgroundGateway(table) as url:
        yield url.removeprefix("http://")


def login_through(gateway: str, source: str, login: str, password: str, claimed: str) -> int:
    """A login from `source`, which claims to be `claimed` in its own X-Forwarded-For."""
    host, port = gateway.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    form = {"grant_type": "password", "username": login, "password": password, "client_id": "web"}
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": claimed,
    }
    connection.request("POST", "/api/identity/oauth/token", urlencode(form), headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_through_the_gateway_a_client_cannot_escape_the_limit_by_claiming_other_addresses(
    provider: Provider, gateway: str, make_person: Callable
) -> None:
    make_person(login="pupil")
    for attempt in range(MAX_FAILURES):
        claimed = f"192.0.2.{attempt + 1}"  # a new address every time, all of them lies
        assert login_through(gateway, "127.0.0.2", f"guess-{attempt}", "wrong", claimed) == 400
    assert login_through(gateway, "127.0.0.2", "pupil", PASSWORD, "192.0.2.200") == 400
    assert login_through(gateway, "127.0.0.3", "pupil", PASSWORD, "192.0.2.1") == 200


def test_behind_a_proxy_fix_the_address_it_names_is_used_and_not_walked_again(
    provider: Provider,
) -> None:
    app = create_app(Settings.from_env("identity", database_url=str(provider.database.engine.url)))
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    # A client on the school's own network names another address in front of its own.
    forged = {"X-Forwarded-For": "192.0.2.1, 10.0.0.7"}
    form = {"grant_type": "password", "username": "x", "password": "y", "client_id": "web"}
    app.test_client().post("/api/identity/oauth/token", data=form, headers=forged)
    with provider.database.transaction() as session:
        ips = session.scalars(
            select(AuditEntry.ip).where(AuditEntry.outcome == "unknown_login")
        ).all()
    assert ips == ["10.0.0.7"]


def test_by_default_a_client_on_the_school_network_is_limited_by_its_own_address(
    provider: Provider, make_person: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A laptop on the school's LAN (a private address) writes a new X-Forwarded-For each
    time: only the gateway's address is trusted by default, so its lies are not believed."""
    monkeypatch.delenv("IDENTITY_TRUSTED_PROXIES", raising=False)
    make_person(login="pupil")
    app = create_app(Settings.from_env("identity", database_url=str(provider.database.engine.url)))
    client = app.test_client()

    def login(password: str, claimed: str) -> int:
        form = {"grant_type": "password", "username": "pupil", "password": password}
        answer = client.post(
            "/api/identity/oauth/token",
            data={**form, "client_id": "web", "school_id": SCHOOL},
            headers={"X-Forwarded-For": claimed},
            environ_base={"REMOTE_ADDR": "10.0.0.7"},
        )
        return answer.status_code

    for attempt in range(MAX_FAILURES):
        assert login("wrong one", f"192.0.2.{attempt + 1}") == 400
    assert login(PASSWORD, "192.0.2.200") == 400  # the real address is refused now
    with provider.database.transaction() as session:
        ips = set(session.scalars(select(AuditEntry.ip).where(AuditEntry.outcome != "ok")))
    assert ips == {"10.0.0.7"}
