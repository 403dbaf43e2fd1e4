"""One click in a digest stops the digests (RFC 8058): the link is signed, so nobody can
unsubscribe anyone else, and it writes nothing for an erased person."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from notify.app import create_app
from notify.config import DeliveryConfig
from notify.sending import Sender
from notify.unsubscribe import token
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.testing import Mailbox, TokenIssuer

from .events import SCHOOL, erasure_requested, new_id
from .families import School, homework, news_config

SECRET = "test-unsubscribe-secret"


@pytest.fixture
def school(
    sqlite_url: str, delivery_config: DeliveryConfig, monkeypatch: pytest.MonkeyPatch
) -> School:
    monkeypatch.setenv("NOTIFY_UNSUBSCRIBE_SECRET", SECRET)
    upgrade("notify", sqlite_url)
    config = replace(news_config(delivery_config), unsubscribe_secret=SECRET)
    return School(Database(sqlite_url), config)


@pytest.fixture
def client(sqlite_url: str, token_issuer: TokenIssuer, school: School) -> FlaskClient:
    settings = Settings.from_env(
        "notify", database_url=sqlite_url, **token_issuer.settings_overrides()
    )
    return create_app(settings).test_client()


def evening_digest(school: School, mailbox: Mailbox) -> tuple[str, str]:
    masha = school.child("Мария", "Иванова")
    mother = school.guardian("mother@example.org", masha)
    school.hear(homework(school.class_id, school.teacher, "§12"))
    Sender(school.config).send_due(school.database, datetime.now(UTC) + timedelta(days=1))
    [digest] = mailbox.to("mother@example.org")
    return mother, digest["List-Unsubscribe"].strip("<>")


def test_a_mother_stops_the_evening_digest_with_one_click(
    school: School, client: FlaskClient, mailbox: Mailbox, token_issuer: TokenIssuer
) -> None:
    mother, url = evening_digest(school, mailbox)
    assert mailbox.to("mother@example.org")[0]["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    parts = urlsplit(url)
    answer = client.post(f"{parts.path}?{parts.query}", data="List-Unsubscribe=One-Click")
    assert answer.status_code == 200
    me = token_issuer.bearer(sub=mother, school_id=SCHOOL, roles=["guardian"])
    chosen = client.get(f"/api/notify/v1/preferences/{mother}", headers=me).json["categories"]
    assert chosen["homework"]["email"] == "never"
    assert chosen["mark"]["email"] == "immediately"  # what comes at once still comes
    school.hear(homework(school.class_id, school.teacher, "§13"))
    assert school.deliveries(status="created") == []


def test_a_link_not_signed_by_notify_changes_nothing(
    school: School, client: FlaskClient, mailbox: Mailbox
) -> None:
    mother, _url = evening_digest(school, mailbox)
    forged = token("another-secret", mother, SCHOOL)
    assert client.post(f"/api/notify/v1/unsubscribe?token={forged}").status_code == 404
    assert client.post("/api/notify/v1/unsubscribe?token=garbage").status_code == 404
    school.hear(homework(school.class_id, school.teacher, "§13"))
    assert len(school.deliveries(status="created")) == 1


def test_an_erased_mothers_old_link_writes_nothing(
    school: School, client: FlaskClient, mailbox: Mailbox
) -> None:
    mother, url = evening_digest(school, mailbox)
    school.hear(erasure_requested(new_id(), [(mother, "guardian")]))
    parts = urlsplit(url)
    assert client.post(f"{parts.path}?{parts.query}").status_code == 404
