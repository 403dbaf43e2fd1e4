"""Notify's test fixtures: a real SMTP server on loopback (the edge of notify's world)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from notify.config import DeliveryConfig
from notify.models import Base
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.tables import kit_metadata
from schoolkit.testing import Mailbox


@pytest.fixture
def delivery_config(mailbox: Mailbox) -> DeliveryConfig:
    return DeliveryConfig(
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        first_retry_seconds=0.0,
        max_attempts=3,
        send_interval_seconds=0.05,
    )


@pytest.fixture
def notify_database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'notify.db'}")
    Base.metadata.create_all(database.engine)
    kit_metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def notify_postgres(postgres_url: str) -> Iterator[Database]:
    upgrade("notify", postgres_url)
    database = Database(postgres_url)
    yield database
    database.dispose()
