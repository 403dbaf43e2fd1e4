"""Notify's test fixtures: a real SMTP server on loopback (the edge of notify's world)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notify.config import DeliveryConfig
from notify.models import Base
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.tables import kit_metadata
from schoolkit.testing import free_port


class Mailbox:
    """What the SMTP server on loopback received; `refuse` makes it reject recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

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
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


@pytest.fixture
def delivery_config(mailbox: Mailbox) -> DeliveryConfig:
    return DeliveryConfig(
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,  # type: ignore[attr-defined]
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
