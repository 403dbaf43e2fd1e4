"""Metrics are for operations' Prometheus, which scrapes each app directly: not for anyone
who reaches the gateway (R-PLT-3, R-ROLE-7). The matrix holds each app's own /metrics
public; this is the other half: the local gateway, routing by deploy/services.toml exactly
as deployed, must not hand a service's /metrics to a caller of any role, while it does
route that service's /healthz (so a refusal here is the gateway's, not a dead upstream).
"""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from schoolkit.gateway import BackgroundGateway, default_table_path
from schoolkit.testing import TokenIssuer, free_port

from .world import SERVICES, start_services

ROLES = (None, "operations", "administrator")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TokenIssuer]]:
    workdir = tmp_path_factory.mktemp("gateway")
    issuer = TokenIssuer()
    services = start_services(workdir, issuer)
    servers = {
        name: make_server("127.0.0.1", 0, service.app, threaded=True)
        for name, service in services.items()
    }
    for server in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()
    table = _table(workdir / "services.toml", {name: s.server_port for name, s in servers.items()})
    with BackgroundGateway(table) as url:
        yield url, issuer
    for server in servers.values():
        server.shutdown()
    issuer.close()


def _table(path: Path, ports: dict[str, int]) -> Path:
    """deploy/services.toml's routes, each to the app served here."""
    deployed = tomllib.loads(default_table_path().read_text(encoding="utf-8"))
    lines = ["[gateway]", f"port = {free_port()}", ""]
    for name, spec in deployed["services"].items():
        if name in ports:
            lines += [
                f"[services.{name}]",
                f"web_port = {ports[name]}",
                f"worker_metrics_port = {free_port()}",
                f"routes = {json.dumps(spec['routes'])}",
                "",
            ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("role", ROLES, ids=[role or "anonymous" for role in ROLES])
@pytest.mark.parametrize("service", SERVICES)
def test_metrics_are_not_routed_by_the_gateway(
    gateway: tuple[str, TokenIssuer], service: str, role: str | None
) -> None:
    url, issuer = gateway
    headers = issuer.bearer(roles=[role]) if role else {}
    routed = requests.get(f"{url}/api/{service}/healthz", timeout=10)
    metrics = requests.get(f"{url}/api/{service}/metrics", headers=headers, timeout=10)

    assert routed.status_code == 200
    assert metrics.status_code in (403, 404), metrics.text[:200]
    assert "# TYPE" not in metrics.text
