"""The system as `make up` runs it, on free ports: every chosen service as real processes.

Each service gets its own throwaway PostgreSQL database (or, with `store="sqlite"`, its own
SQLite file under the work directory, as `make up` runs it), its web process under gunicorn
and its worker process, all on one private namespace of the real RabbitMQ; a gateway in
front routes /api/<service>/ as in a deployment (and "/" to the web app, when it is one of
them). Tests drive it over HTTP and the bus.
"""

from __future__ import annotations

import importlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from schoolkit.gateway import BackgroundGateway
from schoolkit.migrate import upgrade
from schoolkit.testing import Bus, create_database, drop_database, free_port
from schoolkit.topology import BusNames

BIN = Path(sys.executable).parent
READY_SECONDS = 120.0


@dataclass
class ServiceProcesses:
    name: str
    database_url: str
    web_port: int
    metrics_port: int
    environment: dict[str, str]
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None


@dataclass
class System:
    bus: Bus
    workdir: Path
    services: list[str]
    jwks_url: str | None = None  # default: identity's own, when identity runs
    token_issuer: str = "school-identity"
    extra_environment: Mapping[str, str] = field(default_factory=dict)
    running: dict[str, ServiceProcesses] = field(default_factory=dict)
    gateway_url: str = ""
    store: str = "postgresql"  # or sqlite

    def start(self) -> System:
        ports = {name: free_port() for name in self.services}
        jwks = (
            self.jwks_url or f"http://127.0.0.1:{ports.get('identity', 0)}/api/identity/oauth/jwks"
        )
        for name in self.services:
            self.running[name] = self._prepare(name, ports[name], jwks)
        # The gateway first: the web app calls the APIs through it and sends browsers to it.
        self._start_gateway()
        if "web" in self.running:
            self._register_web_client()
        for name in self.services:
            self.start_web(name)
            self.start_worker(name)
        self._wait_until_ready()
        return self

    def _register_web_client(self) -> None:
        """As `make up` does: the web app is identity's confidential OAuth client."""
        printed = self.run_command(
            "identity",
            "identity-add-client",
            "school-web",
            "--kind",
            "application",
            "--redirect-uri",
            self.url("/oauth/callback"),
        )
        secret = next(
            line.split()[1] for line in printed.splitlines() if line.startswith("secret:")
        )
        self.running["web"].environment.update(
            WEB_CLIENT_SECRET=secret,
            WEB_API_URL=self.gateway_url,
            WEB_PUBLIC_URL=self.gateway_url,
        )

    def url(self, path: str) -> str:
        return f"{self.gateway_url}{path}"

    def run_command(self, name: str, command: str, *arguments: str, **environment: str) -> str:
        """Run one of a service's commands (`identity-bootstrap-admin`…) against its database."""
        done = subprocess.run(
            [str(BIN / command), *arguments],
            env={**self.running[name].environment, **environment},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def start_worker(self, name: str) -> None:
        service = self.running[name]
        service.worker = self._spawn([str(BIN / f"{name}-worker")], service, "worker")

    def force_purge(self, name: str) -> None:
        """Ask a service's worker to purge erased values from its files now (SIGUSR1)."""
        worker = self.running[name].worker
        assert worker is not None, f"{name} has no worker running"
        worker.send_signal(signal.SIGUSR1)

    def stop_worker(self, name: str) -> None:
        _stop(self.running[name].worker)
        self.running[name].worker = None

    def start_web(self, name: str) -> None:
        service = self.running[name]
        app = f"{name}.app:create_app()"
        command = [str(BIN / "gunicorn"), "-c", "python:schoolkit.gunicorn_conf", app]
        service.web = self._spawn(command, service, "web")

    def close(self) -> None:
        for service in self.running.values():
            _stop(service.worker)
            _stop(service.web)
        if self._gateway is not None:
            self._gateway.stop()
        for service in self.running.values():
            if self.store == "postgresql":
                drop_database(service.database_url)

    def _prepare(self, name: str, web_port: int, jwks: str) -> ServiceProcesses:
        if self.store == "sqlite":
            database_url = f"sqlite:///{self.workdir / 'var' / f'{name}.db'}"
        else:
            database_url = create_database(f"e2e_{name}")
        upgrade(name, database_url)
        metrics_port = free_port()
        environment = {
            **self.bus.environment(name, database_url),
            "IDENTITY_JWKS_URL": jwks,
            "TOKEN_ISSUER": self.token_issuer,
            "BIND": f"127.0.0.1:{web_port}",
            "WEB_CONCURRENCY": "1",
            "WORKER_METRICS_PORT": str(metrics_port),
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "prometheus" / name),
            "SCHOOL_VAR_DIR": str(self.workdir / "var"),
            **self.extra_environment,
        }
        return ServiceProcesses(name, database_url, web_port, metrics_port, environment)

    def _spawn(
        self, command: list[str], service: ServiceProcesses, role: str
    ) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{service.name}-{role}.log").open("ab")
        return subprocess.Popen(
            command, env=service.environment, stdout=log, stderr=subprocess.STDOUT
        )

    _gateway: BackgroundGateway | None = None

    def _start_gateway(self) -> None:
        table = self.workdir / "services.toml"
        table.write_text(_service_table(self.running), encoding="utf-8")
        self._gateway = BackgroundGateway(table)
        self.gateway_url = self._gateway.start()

    def _wait_until_ready(self) -> None:
        # Each service gets its own allowance: on a busy machine ten processes start slowly.
        for name in self.services:
            deadline = time.monotonic() + READY_SECONDS
            self._wait(lambda n=name: _ready(self.url(f"/api/{n}/readyz")), name, deadline)
            self.wait_for_worker(name, deadline)

    def wait_for_worker(self, name: str, deadline: float | None = None) -> None:
        """Until the worker has declared every queue it consumes from (events are not lost)."""
        deadline = deadline or time.monotonic() + READY_SECONDS
        names = BusNames(self.bus.namespace, name)
        handlers = importlib.import_module(f"{name}.handlers").HANDLERS
        for event_type in handlers:
            queue = names.queue(event_type)
            self._wait(lambda q=queue: self.bus.is_consuming(q), f"{name} worker", deadline)

    def _wait(self, condition: Callable[[], bool], what: str, deadline: float) -> None:
        while not condition():
            self._fail_if_a_process_ended()
            if time.monotonic() > deadline:
                logs = sorted(p.name for p in self.workdir.glob("*.log"))
                raise AssertionError(f"{what} not ready; see {self.workdir} ({logs})")
            time.sleep(0.1)

    def _fail_if_a_process_ended(self) -> None:
        # A process that exited while starting never becomes ready: say why at once.
        for service in self.running.values():
            for role, process in (("web", service.web), ("worker", service.worker)):
                if process is not None and process.poll() is not None:
                    log = self.workdir / f"{service.name}-{role}.log"
                    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                    raise AssertionError(
                        f"{service.name} {role} exited with {process.returncode}:\n{tail}"
                    )


def _service_table(running: Mapping[str, ServiceProcesses]) -> str:
    lines = ["[gateway]", "port = 0", ""]
    for name, service in running.items():
        routes = [f'"/api/{name}/"'] + (['"/console"'] if name == "identity" else [])
        # The web app is a client at "/", as in deploy/services.toml.
        part, routes = ("clients", ['"/"']) if name == "web" else ("services", routes)
        lines += [
            f"[{part}.{name}]",
            f"web_port = {service.web_port}",
            f"worker_metrics_port = {service.metrics_port}",
            f"routes = [{', '.join(routes)}]",
            "",
        ]
    return "\n".join(lines)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


__all__ = ["System"]
