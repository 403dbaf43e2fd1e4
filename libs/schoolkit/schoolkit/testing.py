"""Pytest fixtures for tests that use the real PostgreSQL and RabbitMQ of the machine.

Loaded by the repository's root conftest.py. On CI (the `CI` variable is set) a missing
database or broker fails the test loudly; on a developer's machine it skips, saying what
to start.
"""

from __future__ import annotations

import atexit
import email
import email.policy
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

import pika
import psycopg
import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Pool, create_engine, inspect
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from schoolkit.auth import JsonWebKey, JsonWebToken
from schoolkit.contracts import load_contracts
from schoolkit.endpoints import host_port, reachable
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import DEFAULT_AMQP_URL, Settings, project_root
from schoolkit.topology import BusNames, declare_exchanges, delete_exchanges

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
AMQP_URL = os.environ.get("TEST_AMQP_URL", os.environ.get("AMQP_URL", DEFAULT_AMQP_URL))
# A handler table for a worker that only relays (benchmarks, tests of a pure producer).
NO_HANDLERS: dict[str, object] = {}
TEST_ISSUER = "test-identity"
SERVICES = ("identity", "journal", "diary", "consent", "notify", "archive")


# Ports this process has handed out: each goes to one server only.
_HANDED_OUT: set[int] = set()
_PORTS_BELOW_EPHEMERAL = 12_000


def free_port() -> int:
    """A TCP port on loopback for a server that binds it later.

    Not a port from bind(0): those lie in the kernel's ephemeral range, where every
    outgoing connection (to PostgreSQL, RabbitMQ, a service) also takes its port, and one
    of them could take ours in the second or two before a gunicorn binds it (CI saw a
    service never come up that way). Ports just below that range are only ever taken by
    an explicit bind, which the probe here sees.
    """
    ephemeral_start = _ephemeral_range_start()
    first = max(1024, ephemeral_start - _PORTS_BELOW_EPHEMERAL)
    for _ in range(1_000):
        port = random.randrange(first, ephemeral_start)  # noqa: S311 - not a secret
        if port not in _HANDED_OUT and _can_bind(port):
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError(f"no free port between {first} and {ephemeral_start}")


def _ephemeral_range_start() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii")
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _can_bind(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until_answering(port: int, path: str = "/healthz", timeout: float = 60.0) -> None:
    """Wait until a web process on loopback answers `path` with 200 (benchmarks, e2e)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"nothing answers on port {port}")


class CommitClock:
    """When the transaction that applied each noted key committed (benchmarks' workers).

    A benchmark's handler calls `note(session, key)`; after that session commits, the time
    is kept for the key (a rollback forgets it), and when the process ends every time is
    written as JSON to the file named by BENCH_STAMPS_FILE. Latency is then measured at
    the consumer's commit without the benchmark polling its database.
    """

    def __init__(self) -> None:
        self.commit_times: dict[str, float] = {}
        self._info_key = f"commit_clock_{id(self)}"
        sqlalchemy_event.listen(Session, "after_commit", self._stamp)
        sqlalchemy_event.listen(Session, "after_rollback", self._forget)
        atexit.register(self._dump)

    def note(self, session: Session, key: str) -> None:
        session.info.setdefault(self._info_key, []).append(key)

    def _stamp(self, session: Session) -> None:
        now = time.time()
        for key in session.info.pop(self._info_key, ()):
            self.commit_times[key] = now

    def _forget(self, session: Session) -> None:
        session.info.pop(self._info_key, None)

    def _dump(self) -> None:
        path = os.environ.get("BENCH_STAMPS_FILE")
        if path:
            Path(path).write_text(json.dumps(self.commit_times), encoding="utf-8")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The shared servers of the machine, by the command names of their processes.
SERVER_PROGRAMS = {"PostgreSQL": ("postgres",), "RabbitMQ": ("beam.smp",)}


def cpu_seconds(pid: int, with_ended_children: bool = False) -> float:
    """User + system CPU seconds of one process so far (/proc/<pid>/stat); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_ended_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def cpu_by_program(names: tuple[str, ...]) -> float:
    """CPU seconds of every process whose command is one of `names` (the database, the broker),
    with their children that have ended (PostgreSQL's backends of closed connections)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if command in names:
                total += cpu_seconds(int(entry.name), with_ended_children=True)
    return total


def servers_cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of PostgreSQL's and RabbitMQ's processes (benchmarks' accounting)."""
    return {name: cpu_by_program(names) for name, names in SERVER_PROGRAMS.items()}


def require(url: str, default_port: int, what: str, how_to_start: str) -> None:
    if reachable(url, default_port):
        return
    message = (
        f"{what} is not reachable at {host_port(url, default_port)}; start it with: {how_to_start}"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> None:
    require(
        POSTGRES_ADMIN_URL,
        5432,
        "PostgreSQL",
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    )


def require_rabbitmq() -> None:
    require(AMQP_URL, 5672, "RabbitMQ", "rabbitmq-server -detached")


def create_database(prefix: str = "test") -> str:
    """A new, empty PostgreSQL database; returns its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_database_files(url: str) -> list[Path]:
    """Every file of one PostgreSQL database (tables, indexes, TOAST, its catalogs) as the
    server keeps it on disk: the tests run on the server's machine, as a user who can read them."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        data = connection.execute("SHOW data_directory").fetchone()
        oid = connection.execute(
            "SELECT oid FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    assert data is not None and oid is not None
    return sorted(p for p in (Path(data[0]) / "base" / str(oid[0])).iterdir() if p.is_file())


def postgres_wal_files() -> list[Path]:
    """The WAL segments in pg_wal (the whole cluster's, every database's)."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        data = connection.execute("SHOW data_directory").fetchone()
    assert data is not None
    return sorted(p for p in (Path(data[0]) / "pg_wal").iterdir() if p.is_file())


def postgres_checkpoint() -> None:
    """Write every dirty page to the files, so that a scan sees what the database holds."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def sqlite_files(url: str) -> list[Path]:
    """A SQLite database's file and its -wal and -shm companions, those that exist."""
    database = Path(url.split(":///", 1)[1])
    return [p for p in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if p.exists()]


def files_holding(files: list[Path], values: list[str]) -> dict[str, list[str]]:
    """Which of `values` (as UTF-8 bytes) each file holds: {file name: [values]}, raw bytes.

    A file that vanishes while being read (a WAL segment removed) holds nothing.
    """
    found: dict[str, list[str]] = {}
    wanted = [(value, value.encode("utf-8")) for value in values]
    for path in files:
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            continue
        held = [value for value, raw in wanted if raw in content]
        if held:
            found[str(path)] = held
    return found


@pytest.fixture
def postgres_url() -> Iterator[str]:
    require_postgres()
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@dataclass
class Bus:
    """A private corner of the real broker: every name starts with its own namespace."""

    namespace: str
    amqp_url: str
    retry_delays: tuple[float, ...] = (0.2, 0.4)
    delivery_limit: int = 3
    services: set[str] = field(default_factory=set)

    def settings(self, service: str, database_url: str, **overrides: object) -> Settings:
        self.services.add(service)
        values: dict[str, object] = {
            "amqp_url": self.amqp_url,
            "bus_namespace": self.namespace,
            "retry_delays": self.retry_delays,
            "delivery_limit": self.delivery_limit,
            "relay_poll_seconds": 0.02,
        }
        values.update(overrides)
        return Settings.from_env(service, database_url=database_url, **values)

    def environment(self, service: str, database_url: str) -> dict[str, str]:
        """The environment a worker subprocess needs to join this bus."""
        self.services.add(service)
        return {
            **os.environ,
            "AMQP_URL": self.amqp_url,
            "BUS_NAMESPACE": self.namespace,
            "BUS_RETRY_DELAYS": ",".join(str(delay) for delay in self.retry_delays),
            "BUS_DELIVERY_LIMIT": str(self.delivery_limit),
            f"{service.upper()}_DATABASE_URL": database_url,
            "RELAY_POLL_SECONDS": "0.02",
        }

    def spawn_worker(
        self, service: str, database_url: str, handlers: str, module_dir: Path, **extra: str
    ) -> subprocess.Popen[bytes]:
        """A real worker process on this bus (`python -m schoolkit.worker`), logging warnings
        only, its handler table (`module:ATTRIBUTE`) importable from `module_dir`."""
        environment = {**self.environment(service, database_url), **extra, "LOG_LEVEL": "WARNING"}
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(module_dir), environment.get("PYTHONPATH", "")]
        )
        command = ["-m", "schoolkit.worker", "--service", service, "--handlers", handlers]
        # The arguments are the caller's own (a bench or test), never outside input.
        return subprocess.Popen([sys.executable, *command], env=environment)  # noqa: S603

    def channel(self) -> pika.adapters.blocking_connection.BlockingChannel:
        return pika.BlockingConnection(pika.URLParameters(self.amqp_url)).channel()

    def queue_exists(self, queue: str) -> bool:
        """Whether a worker has declared `queue` yet (a passive declare asks without creating)."""
        channel = self.channel()
        try:
            channel.queue_declare(queue, passive=True)
            return True
        except pika.exceptions.ChannelClosedByBroker:
            return False
        finally:
            if channel.connection.is_open:
                channel.connection.close()

    def is_consuming(self, queue: str) -> bool:
        """Whether a worker consumes `queue`: it declares and binds every queue first, so
        from then on an event published to its type is routed (not returned unroutable)."""
        channel = self.channel()
        try:
            declared = channel.queue_declare(queue, passive=True)
            return declared.method.consumer_count > 0
        except pika.exceptions.ChannelClosedByBroker:
            return False
        finally:
            if channel.connection.is_open:
                channel.connection.close()

    def publish(self, event: Event) -> None:
        """Publish `event` as its producer's relay would: validated, confirmed, mandatory."""
        load_contracts(project_root() / "contracts").validate(event.to_dict())
        channel = self.channel()
        try:
            declare_exchanges(channel, self.namespace)
            channel.confirm_delivery()
            channel.basic_publish(
                f"{self.namespace}.events",
                event.type,
                event.to_json().encode(),
                properties=pika.BasicProperties(
                    message_id=event.id,
                    type=event.type,
                    content_type="application/json",
                    delivery_mode=2,
                ),
                mandatory=True,
            )
        finally:
            channel.connection.close()

    def listen(self, *event_types: str) -> Listener:
        """A private queue that catches every event of these types from now on."""
        channel = self.channel()
        declare_exchanges(channel, self.namespace)
        queue = channel.queue_declare("", exclusive=True).method.queue
        for event_type in event_types:
            channel.queue_bind(queue, f"{self.namespace}.events", event_type)
        return Listener(channel, queue)

    def clean_up(self) -> None:
        event_types = list(load_contracts(project_root() / "contracts").routes)
        channel = self.channel()
        for service in self.services:
            names = BusNames(self.namespace, service)
            for queue in [names.queue(t) for t in event_types] + [names.parking_queue]:
                channel.queue_delete(queue)
            for delay in self.retry_delays:
                channel.queue_delete(names.delay_queue(delay))
        delete_exchanges(channel, self.namespace)
        channel.connection.close()


class Listener:
    """Events caught by `Bus.listen`, read as envelopes (dicts)."""

    def __init__(self, channel: Any, queue: str) -> None:
        self.channel = channel
        self.queue = queue
        self.received: list[dict[str, Any]] = []

    def wait_for(
        self, condition: Callable[[dict[str, Any]], bool], timeout: float = 15.0
    ) -> dict[str, Any]:
        """The first event (already caught or arriving within `timeout`) that meets `condition`."""
        deadline = time.monotonic() + timeout
        while True:
            for envelope in self.received:
                if condition(envelope):
                    return envelope
            if time.monotonic() > deadline:
                raise AssertionError(f"no such event within {timeout} s; got {self.received}")
            self.drain()
            time.sleep(0.02)

    def drain(self) -> None:
        """Take in whatever has arrived so far."""
        while True:
            method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return
            self.received.append(json.loads(body))

    def close(self) -> None:
        if self.channel.connection.is_open:
            self.channel.connection.close()


@pytest.fixture
def bus() -> Iterator[Bus]:
    require_rabbitmq()
    test_bus = Bus(namespace=f"test-{uuid.uuid4().hex[:10]}", amqp_url=AMQP_URL)
    try:
        yield test_bus
    finally:
        test_bus.clean_up()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


class TokenIssuer:
    """identity's JWKS endpoint on loopback and the keys to sign access tokens with.

    identity is outside every other service's bounded context, so their tests sign
    their own tokens here; identity's own tests use the real provider instead.
    """

    def __init__(self, issuer: str = TEST_ISSUER) -> None:
        self.issuer = issuer
        self.keys = [self.new_key("key-1")]
        self.published = list(self.keys)
        self.fetches = 0
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.jwks_url = f"http://127.0.0.1:{self._server.server_port}/oauth/jwks"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @staticmethod
    def new_key(kid: str) -> Any:
        return JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": kid})

    def publish(self, *keys: Any) -> None:
        self.published = list(keys)

    def issue(self, key: Any = None, kid: str | None = None, **claims: Any) -> str:
        """An access token signed by `key` (the first key by default); None leaves a claim out."""
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "sub": "user-1",
            "school_id": "school-1",
            "roles": ["subject_teacher"],
            "sid": "session-1",
            "iat": now,
            "exp": now + 300,
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        signing_key = key or self.keys[0]
        header = {"alg": "RS256", "kid": kid or signing_key.kid}
        return JsonWebToken(["RS256"]).encode(header, payload, signing_key).decode()

    def bearer(self, **claims: Any) -> dict[str, str]:
        """The Authorization header of a fresh token with these claims."""
        return {"Authorization": f"Bearer {self.issue(**claims)}"}

    def settings_overrides(self) -> dict[str, str]:
        """What a service's Settings need to trust this issuer."""
        return {"jwks_url": self.jwks_url, "token_issuer": self.issuer}

    def _serve(self) -> None:
        # A short poll interval: shutting the server down waits for one poll.
        self._server.serve_forever(poll_interval=0.02)

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path != "/oauth/jwks":
            return Response("not found", status=404)(environ, start_response)
        self.fetches += 1
        body = {"keys": [key.as_dict(is_private=False) for key in self.published]}
        return Response(json.dumps(body), content_type="application/json")(environ, start_response)


@pytest.fixture
def token_issuer() -> Iterator[TokenIssuer]:
    issuer = TokenIssuer()
    yield issuer
    issuer.close()


class Mailbox:
    """A real SMTP server on loopback (the edge of notify's world) and what it received.

    `refuse` holds addresses it rejects, as a real server rejects an unknown mailbox.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.port = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


class ConnectionsByThread:
    """Which pooled connections each thread holds checked out, for one pool."""

    _of_pool: ClassVar[weakref.WeakKeyDictionary[Pool, ConnectionsByThread]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, pool: Pool) -> None:
        self.holders: dict[int, int] = {}
        sqlalchemy_event.listen(pool, "checkout", self._out)
        sqlalchemy_event.listen(pool, "checkin", self._in)

    @classmethod
    def of(cls, pool: Pool) -> ConnectionsByThread:
        if pool not in cls._of_pool:
            cls._of_pool[pool] = cls(pool)
        return cls._of_pool[pool]

    def held_here(self) -> int:
        me = threading.get_ident()
        return sum(1 for thread in self.holders.values() if thread == me)

    def _out(self, _dbapi: Any, record: Any, _proxy: Any) -> None:
        self.holders[id(record)] = threading.get_ident()

    def _in(self, _dbapi: Any, record: Any) -> None:
        self.holders.pop(id(record), None)


class TransactionGuardClient(FlaskClient):
    """A test client that fails any request whose response outlives its database work.

    Each request is read to its end (buffered), so a streamed body has run and the request
    has been torn down; then this thread must hold no more pooled connections than before.
    A connection still checked out is a transaction still open: on SQLite it kept the
    journal write-locked for 15 minutes (issue 19), on PostgreSQL it sits idle in
    transaction. Installed for every test by the `guard_transactions` fixture.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        connections = self._connections()
        before = connections.held_here() if connections else 0
        response = super().open(*args, **kwargs)
        if connections and not self.preserve_context and connections.held_here() > before:
            raise AssertionError(
                f"{response.request.method} {response.request.path} answered "
                f"{response.status_code} but left a database connection checked out: some "
                "session or result outlived the request (read in a snapshot, then respond)"
            )
        return response

    def _connections(self) -> ConnectionsByThread | None:
        kit = self.application.extensions.get("schoolkit")
        return ConnectionsByThread.of(kit.database.engine.pool) if kit else None


@pytest.fixture(autouse=True)
def guard_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Flask test client of every test is a `TransactionGuardClient`."""
    monkeypatch.setattr(Flask, "test_client_class", TransactionGuardClient)


__all__ = [
    "SERVICES",
    "Bus",
    "Mailbox",
    "TokenIssuer",
    "create_database",
    "drop_database",
    "require_postgres",
    "require_rabbitmq",
]


class ServiceShellChecks:
    """What every service's web process must do, run against that service's own app.

    A service's tests subclass it, naming the service and its `create_app`.
    """

    service: str = ""
    title: str = ""

    @staticmethod
    def create_app(settings: Settings) -> Any:
        raise NotImplementedError

    def _client(self, database_url: str) -> Any:
        upgrade(self.service, database_url)
        settings = Settings.from_env(self.service, database_url=database_url, amqp_url=AMQP_URL)
        return type(self).create_app(settings).test_client()

    def test_it_answers_alive_at_the_root_and_behind_the_gateway_prefix(
        self, sqlite_url: str
    ) -> None:
        client = self._client(sqlite_url)
        for path in ("/healthz", f"/api/{self.service}/healthz"):
            answer = client.get(path)
            assert answer.status_code == 200
            assert answer.get_json()["status"] == "ok"

    def test_it_is_ready_with_its_postgres_database_and_the_broker(self, postgres_url: str) -> None:
        require_rabbitmq()
        answer = self._client(postgres_url).get(f"/api/{self.service}/readyz")
        assert answer.status_code == 200, answer.get_json()

    def test_its_migrations_create_the_kit_tables_on_postgres(self, postgres_url: str) -> None:
        upgrade(self.service, postgres_url)
        upgrade(self.service, postgres_url)  # idempotent: a restart migrates again
        engine = create_engine(postgres_url)
        tables = set(inspect(engine).get_table_names())
        engine.dispose()
        assert {
            "outbox",
            "inbox",
            "tombstones",
            "entity_versions",
            "denied_users",
            "revoked_sessions",
            "alembic_version",
        } <= tables

    def test_it_publishes_its_openapi_document(self, sqlite_url: str) -> None:
        document = self._client(sqlite_url).get(f"/api/{self.service}/openapi.json").get_json()
        assert document["openapi"].startswith("3.")
        assert document["info"]["title"] == self.title
        assert "Error" in document["components"]["schemas"]

    def test_it_serves_prometheus_metrics(self, sqlite_url: str) -> None:
        client = self._client(sqlite_url)
        client.get(f"/api/{self.service}/healthz")
        answer = client.get("/metrics")
        assert answer.status_code == 200
        assert b"http_request_duration_seconds" in answer.data

    def test_an_unknown_path_is_a_json_404(self, sqlite_url: str) -> None:
        answer = self._client(sqlite_url).get(f"/api/{self.service}/v1/no-such-thing")
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "not_found"
