"""The school words its news itself, per category and language; a broken template is
refused when saved, never discovered when sent."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from notify.app import create_app
from notify.config import DeliveryConfig
from notify.sending import Sender
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.testing import Mailbox, TokenIssuer

from .events import SCHOOL, new_id
from .families import School, mark, news_config

URL = "/api/notify/v1/templates"


@pytest.fixture
def school(sqlite_url: str, delivery_config: DeliveryConfig) -> School:
    upgrade("notify", sqlite_url)
    return School(Database(sqlite_url), news_config(delivery_config))


@pytest.fixture
def client(sqlite_url: str, token_issuer: TokenIssuer, school: School) -> FlaskClient:
    settings = Settings.from_env(
        "notify", database_url=sqlite_url, **token_issuer.settings_overrides()
    )
    return create_app(settings).test_client()


@pytest.fixture
def admin(token_issuer: TokenIssuer) -> dict[str, str]:
    return token_issuer.bearer(sub=new_id(), school_id=SCHOOL, roles=["administrator"])


def wording(**overrides: str) -> dict[str, str]:
    return {
        "category": "mark",
        "language": "ru",
        "subject": "Новая оценка: {child}",
        "body": "{child} получил(а) {value} за {lesson_date}",
        **overrides,
    }


def test_the_school_words_its_mark_news_and_the_mother_reads_that(
    school: School, client: FlaskClient, admin: dict[str, str], mailbox: Mailbox
) -> None:
    saved = client.put(URL, json=wording(), headers=admin)
    assert saved.status_code == 200
    assert saved.json["version"] == 1
    assert saved.json["preview"]["body"].startswith("Александра Константинопольская получил(а) 5")
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    school.hear(mark(masha, 4, mark_id=new_id(), teacher=school.teacher))
    Sender(school.config).send_due(school.database)
    [message] = mailbox.to("mother@example.org")
    assert message["Subject"] == "Новая оценка: Мария Иванова"
    assert message.get_content().strip() == "Мария Иванова получил(а) 4 за 2025-10-06"


def test_every_save_is_a_new_version_and_the_rest_stays_builtin(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    client.put(URL, json=wording(), headers=admin)
    client.put(URL, json=wording(body="{child}: {value}"), headers=admin)
    items = client.get(URL, headers=admin).json["items"]
    mine = next(i for i in items if (i["category"], i["language"]) == ("mark", "ru"))
    assert (mine["version"], mine["body"], mine["builtin"]) == (2, "{child}: {value}", False)
    other = next(i for i in items if (i["category"], i["language"]) == ("homework", "en"))
    assert other["builtin"] is True and "text" in other["placeholders"]


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"body": "{child}: {grade}"}, "body"),
        ({"subject": "Оценка {pupil}"}, "subject"),
        ({"body": "{child: {value}"}, "body"),
        ({"body": "{child} " + "очень длинный текст сообщения " * 3}, "body"),
        ({"category": "weather"}, "category"),
    ],
)
def test_a_broken_template_is_refused_when_saved_naming_its_field(
    client: FlaskClient, admin: dict[str, str], broken: dict[str, Any], field: str
) -> None:
    answer = client.put(URL, json=wording(**broken), headers=admin)
    assert answer.status_code == 422
    assert field in answer.json["error"]["fields"]
    assert client.get(URL, headers=admin).json["items"][0]["builtin"] is True


def test_a_guardian_cannot_reword_the_schools_news(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    guardian = token_issuer.bearer(sub=new_id(), school_id=SCHOOL, roles=["guardian"])
    assert client.put(URL, json=wording(), headers=guardian).status_code == 403


def test_another_schools_template_does_not_word_our_news(
    school: School, client: FlaskClient, token_issuer: TokenIssuer, mailbox: Mailbox
) -> None:
    elsewhere = token_issuer.bearer(sub=new_id(), school_id="school-255", roles=["administrator"])
    assert client.put(URL, json=wording(), headers=elsewhere).status_code == 200
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    school.hear(mark(masha, 4, mark_id=new_id(), teacher=school.teacher))
    Sender(school.config).send_due(school.database)
    assert mailbox.to("mother@example.org")[0]["Subject"] == "Оценка"


def test_the_administrator_previews_a_wording_before_saving_it(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    shown = client.post(f"{URL}/preview", json=wording(), headers=admin)
    assert shown.status_code == 200
    assert shown.json["preview"]["subject"] == "Новая оценка: Александра Константинопольская"
    assert client.get(URL, headers=admin).json["items"][0]["builtin"] is True  # not saved
    broken = client.post(f"{URL}/preview", json=wording(body="{grade}"), headers=admin)
    assert (broken.status_code, list(broken.json["error"]["fields"])) == (422, ["body"])
