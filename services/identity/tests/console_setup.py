"""The console as a browser meets it: identity behind the gateway on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from schoolkit.gateway import BackgroundGateway
from schoolkit.testing import free_port

from .conftest import Provider


@contextmanager
def gateway_before(provider: Provider, folder: Path) -> Iterator[str]:
    """A gateway whose table sends /console and /api/identity/ to the provider."""
    port = int(provider.url.rsplit(":", 1)[1])
    table = folder / "services.toml"
    table.write_text(
        "[gateway]\n"
        f"port = {free_port()}\n\n"
        "[services.identity]\n"
        f"web_port = {port}\n"
        f"worker_metrics_port = {free_port()}\n"
        'routes = ["/api/identity/", "/console"]\n'
    )
    with BackgroundGateway(table) as url:
        yield url


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: requests.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page has no form token"
    return found.group(1)


def sign_in(browser: requests.Session, url: str, login: str, password: str) -> requests.Response:
    page = browser.get(f"{url}/console/login", timeout=10)
    form = {"csrf_token": csrf_of(page), "login": login, "password": password}
    return browser.post(f"{url}/console/login", data=form, timeout=10)
