"""Settings from environment variables, with defaults that work on a fresh machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def project_root() -> Path:
    """The repository root: where contracts/, deploy/ and var/ live on a local run."""
    configured = os.environ.get("SCHOOL_ROOT")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "contracts" / "asyncapi.yaml").exists():
            return parent
    return Path.cwd()


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _retry_delays() -> tuple[float, ...]:
    raw = _env("BUS_RETRY_DELAYS", "1,5,30")
    return tuple(float(part) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything a service process needs to know about its surroundings."""

    service: str
    database_url: str
    amqp_url: str = DEFAULT_AMQP_URL
    # Every exchange and queue name starts with this, so tests can run side by side.
    bus_namespace: str = "school"
    # Seconds to wait before each retry of a failed handler; after the last, the message parks.
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0)
    # Deliveries without an ack (a crashing worker) before the broker parks the message.
    delivery_limit: int = 10
    relay_batch_size: int = 200
    relay_poll_seconds: float = 0.05
    # How long the relay retries an event that no queue takes before parking it.
    relay_unroutable_grace_seconds: float = 60.0
    consumer_prefetch: int = 100
    jwks_url: str = "http://127.0.0.1:8080/api/identity/oauth/jwks"
    token_issuer: str = "school-identity"  # noqa: S105 - an issuer name, not a secret
    # Access tokens whose signature this process has verified, kept until they expire
    # (auth.py); 0 verifies every request's signature anew.
    token_cache_size: int = 4096
    # How old the deny-list snapshot of a web process may get: the delay of a block.
    deny_list_refresh_seconds: float = 0.25
    contracts_dir: Path = field(default_factory=lambda: project_root() / "contracts")
    var_dir: Path = field(default_factory=lambda: project_root() / "var")
    log_level: str = "INFO"
    # The worker process serves its own /metrics here; 0 means it does not serve them.
    worker_metrics_port: int = 0
    # A web request waits this long for a database lock, then answers 503 with Retry-After
    # (a stuck lock is a short refusal, never a long outage); on PostgreSQL a statement
    # also runs at most db_statement_timeout_seconds.
    db_lock_timeout_seconds: float = 5.0
    db_statement_timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls, service: str, **overrides: object) -> Settings:
        """Read the environment; `<SERVICE>_DATABASE_URL` wins over `DATABASE_URL`.

        On a local run all services share one environment, so only the per-service
        variable is safe there; in a container `DATABASE_URL` is the service's own.
        """
        root = project_root()
        var_dir = Path(_env("SCHOOL_VAR_DIR", str(root / "var")))
        default_db = f"sqlite:///{var_dir / (service + '.db')}"
        database_url = os.environ.get(f"{service.upper()}_DATABASE_URL") or _env(
            "DATABASE_URL", default_db
        )
        values: dict[str, object] = {
            "service": service,
            "database_url": database_url,
            "amqp_url": _env("AMQP_URL", DEFAULT_AMQP_URL),
            "bus_namespace": _env("BUS_NAMESPACE", "school"),
            "retry_delays": _retry_delays(),
            "delivery_limit": _env_int("BUS_DELIVERY_LIMIT", 10),
            "relay_batch_size": _env_int("RELAY_BATCH_SIZE", 200),
            "relay_poll_seconds": _env_float("RELAY_POLL_SECONDS", 0.05),
            "relay_unroutable_grace_seconds": _env_float("RELAY_UNROUTABLE_GRACE_SECONDS", 60.0),
            "consumer_prefetch": _env_int("CONSUMER_PREFETCH", 100),
            "jwks_url": _env("IDENTITY_JWKS_URL", "http://127.0.0.1:8080/api/identity/oauth/jwks"),
            "token_issuer": _env("TOKEN_ISSUER", "school-identity"),
            "token_cache_size": _env_int("TOKEN_CACHE_SIZE", 4096),
            "deny_list_refresh_seconds": _env_float("DENY_LIST_REFRESH_SECONDS", 0.25),
            "contracts_dir": Path(_env("SCHOOL_CONTRACTS_DIR", str(root / "contracts"))),
            "var_dir": var_dir,
            "log_level": _env("LOG_LEVEL", "INFO"),
            "worker_metrics_port": _env_int("WORKER_METRICS_PORT", 0),
            "db_lock_timeout_seconds": _env_float("DB_LOCK_TIMEOUT_SECONDS", 5.0),
            "db_statement_timeout_seconds": _env_float("DB_STATEMENT_TIMEOUT_SECONDS", 30.0),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
