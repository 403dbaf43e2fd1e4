"""Database migrations of a service, with Alembic.

    schoolkit-migrate <service>      upgrade the service's database to the newest revision

Each service's `migrations/env.py` calls `run_migrations(target_metadata)`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from schoolkit.db import make_engine
from schoolkit.settings import Settings, project_root


def package_dir(service: str) -> Path:
    """Where a deployable part lives: services/<name>, or clients/<name> for the web app,
    which owns a database of its own (its sign-in sessions) like a service."""
    root = project_root()
    client = root / "clients" / service
    return (
        client
        if not (root / "services" / service).is_dir() and client.is_dir()
        else root / "services" / service
    )


def alembic_config(service: str, database_url: str | None = None) -> Config:
    service_dir = package_dir(service)
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.attributes["database_url"] = database_url or Settings.from_env(service).database_url
    return config


def upgrade(service: str, database_url: str | None = None) -> None:
    command.upgrade(alembic_config(service, database_url), "head")


def run_migrations(target_metadata: MetaData | list[MetaData]) -> None:
    """The body of every service's migrations/env.py (online mode: we always have the database)."""
    url = context.config.attributes["database_url"]
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not package_dir(args[0]).is_dir():
        print("usage: schoolkit-migrate <service>", file=sys.stderr)  # noqa: T201
        return 2
    upgrade(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
