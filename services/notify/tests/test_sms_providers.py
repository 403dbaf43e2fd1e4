"""SMS through SMS.ru and SMSC.ru, each a real HTTP server on loopback that answers as the
provider's documented API does: one part of Cyrillic, failover, refusals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from notify.config import DeliveryConfig
from notify.models import Preference
from notify.receipts import ReceiptPoller
from notify.sending import Sender
from notify.sms import one_part, sms_parts
from schoolkit.db import Database
from schoolkit.testing import Mailbox

from .events import SCHOOL
from .families import School, homework, lesson_changed, news_config


class Provider:
    """A provider's HTTP API on loopback; `mode` says how it behaves today."""

    path = "/"
    status_path = "/none"

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.mode = "ok"
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        if request.path == self.status_path:
            body = self.statuses(request.args.get("sms_id", "").split(","))
            return Response(json.dumps(body), content_type="application/json")(
                environ, start_response
            )
        if request.path != self.path:
            return Response("not found", 404)(environ, start_response)
        form = {key: request.form[key] for key in request.form}
        self.received.append(form)
        if self.mode == "slow":
            time.sleep(1.0)
        if self.mode == "down":
            return Response("<html>502 Bad Gateway</html>", 502)(environ, start_response)
        body = self.answer(form)
        return Response(json.dumps(body), content_type="application/json")(environ, start_response)

    def answer(self, form: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def statuses(self, references: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        self._server.shutdown()


class SmsRuApi(Provider):
    """As https://sms.ru/api/send documents POST /sms/send with json=1, and
    https://sms.ru/api/status GET /sms/status."""

    path = "/sms/send"
    status_path = "/sms/status"

    def __init__(self) -> None:
        super().__init__()
        self.issued = 0
        self.fate: dict[str, int] = {}  # sms_id -> the status code its receipt will say

    def statuses(self, references: list[str]) -> dict[str, Any]:
        found = {
            ref: {"status": "OK", "status_code": self.fate.get(ref, 102), "cost": 0.5}
            for ref in references
        }
        return {"status": "OK", "status_code": 100, "sms": found, "balance": 4122.56}

    def answer(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("api_id") != "test-api-id":
            return {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
        if self.mode == "no_money":
            return {"status": "ERROR", "status_code": 201, "status_text": "Не хватает средств"}
        number = form["to"]
        if self.mode == "bad_number":
            entry = {
                "status": "ERROR",
                "status_code": 202,
                "status_text": "Неправильно указан номер",
            }
        else:
            self.issued += 1
            entry = {"status": "OK", "status_code": 100, "sms_id": f"000000-1000000{self.issued}"}
        return {"status": "OK", "status_code": 100, "sms": {number: entry}, "balance": 4122.56}


class SmscApi(Provider):
    """As https://smsc.ru/api/http/ documents /sys/send.php with fmt=3 (JSON)."""

    path = "/sys/send.php"

    def answer(self, form: dict[str, str]) -> dict[str, Any]:
        if (form.get("login"), form.get("psw")) != ("school", "secret"):
            return {"error": "authorise error", "error_code": 2}
        if self.mode == "bad_number":
            return {"error": "invalid number", "error_code": 7}
        return {"id": form.get("id"), "cnt": 1}


@pytest.fixture
def smsru() -> Iterator[SmsRuApi]:
    api = SmsRuApi()
    yield api
    api.close()


@pytest.fixture
def smsc() -> Iterator[SmscApi]:
    api = SmscApi()
    yield api
    api.close()


@pytest.fixture
def school(
    notify_database: Database, delivery_config: DeliveryConfig, smsru: SmsRuApi, smsc: SmscApi
) -> School:
    config = news_config(
        delivery_config,
        sms_providers=("smsru", "smsc"),
        smsru_api_id="test-api-id",
        smsru_url=smsru.url,
        smsc_login="school",
        smsc_password="secret",
        smsc_url=smsc.url,
        sms_timeout_seconds=0.5,
        sms_slow_seconds=0.3,
    )
    return School(notify_database, config)


def a_mother_with_a_phone(school: School) -> tuple[str, str]:
    masha = school.child("Мария", "Иванова")
    mother = school.guardian("mother@example.org", masha, phone="+7 (916) 000-00-01")
    return mother, masha


def test_a_cancelled_lesson_reaches_the_mother_through_sms_ru_in_one_part(
    school: School, smsru: SmsRuApi, smsc: SmscApi, mailbox: Mailbox
) -> None:
    a_mother_with_a_phone(school)
    school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
    sender = Sender(school.config)
    assert sender.send_due(school.database) == 2  # the e-mail and the SMS
    [sms] = smsru.received
    assert (sms["to"], sms["json"]) == ("79160000001", "1")
    assert "Мария Иванова" in sms["msg"] and "отменён" in sms["msg"]
    assert sms_parts(sms["msg"]) == 1
    assert smsc.received == []


def test_when_sms_ru_is_slow_to_answer_smsc_takes_over_and_keeps_the_next_message(
    school: School, smsru: SmsRuApi, smsc: SmscApi
) -> None:
    a_mother_with_a_phone(school)
    smsru.mode = "slow"  # longer than the 0.5 s timeout
    sender = Sender(school.config)
    school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
    sender.send_due(school.database)
    school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
    sender.send_due(school.database)
    assert len(smsru.received) == 1  # tried once, then demoted
    assert len(smsc.received) == 2
    assert {d.status for d in school.deliveries(channel="sms")} == {"sent"}


def test_a_provider_out_of_money_hands_over_to_the_next(
    school: School, smsru: SmsRuApi, smsc: SmscApi
) -> None:
    a_mother_with_a_phone(school)
    smsru.mode = "no_money"
    school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
    Sender(school.config).send_due(school.database)
    [sms] = smsc.received
    assert (sms["phones"], sms["charset"], sms["fmt"]) == ("79160000001", "utf-8", "3")


def test_a_number_the_provider_refuses_is_given_up_at_once_not_tried_elsewhere(
    school: School, smsru: SmsRuApi, smsc: SmscApi
) -> None:
    a_mother_with_a_phone(school)
    smsru.mode = "bad_number"
    school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
    Sender(school.config).send_due(school.database)
    [sms] = school.deliveries(channel="sms")
    assert (sms.status, sms.last_error) == ("failed", "invalid_address")
    assert smsc.received == []


def test_when_every_provider_is_down_the_sms_waits_for_a_retry(
    school: School, smsru: SmsRuApi, smsc: SmscApi
) -> None:
    a_mother_with_a_phone(school)
    smsru.mode = smsc.mode = "down"
    school.config = replace(school.config, first_retry_seconds=60.0)
    school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
    Sender(school.config).send_due(school.database)
    [sms] = school.deliveries(channel="sms")
    assert (sms.status, sms.attempts) == ("pending", 1)
    assert (len(smsru.received), len(smsc.received)) == (1, 1)


def test_long_homework_by_sms_is_cut_to_one_part(school: School, smsru: SmsRuApi) -> None:
    mother, _masha = a_mother_with_a_phone(school)
    with school.database.transaction() as session:
        session.add(
            Preference(
                person_id=mother,
                school_id=SCHOOL,
                email=False,
                sms=True,
                choices={"homework": {"sms": "immediately"}},
            )
        )
    long_text = "Прочитать главы 3–5, ответить письменно на вопросы 1–12 на странице 48"
    school.hear(homework(school.class_id, school.teacher, long_text))
    Sender(school.config).send_due(school.database)
    [sms] = smsru.received
    assert sms["msg"].startswith("Мария Иванова: домашнее задание")
    assert sms["msg"].endswith("…") and sms_parts(sms["msg"]) == 1


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("а" * 70, 1),
        ("а" * 71, 2),
        ("а" * 134, 2),
        ("а" * 135, 3),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 159 + "€", 2),  # an extended GSM character takes two septets
        ("Оценка 5", 1),
    ],
)
def test_cyrillic_is_counted_in_ucs2_parts_of_70_then_67(text: str, parts: int) -> None:
    assert sms_parts(text) == parts


def test_a_text_cut_to_one_part_keeps_as_much_as_fits() -> None:
    cut = one_part("ж" * 100)
    assert (len(cut), cut[-1], sms_parts(cut)) == (70, "…", 1)


def test_past_the_schools_daily_sms_budget_an_sms_waits_for_tomorrow_but_a_legal_notice_goes(
    school: School, smsru: SmsRuApi
) -> None:
    school.config = replace(school.config, sms_daily_budget=1)
    mother, masha = a_mother_with_a_phone(school)
    sender = Sender(school.config)
    for _ in range(2):
        school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
        sender.send_due(school.database)
    assert len(smsru.received) == 1
    [held] = school.deliveries(channel="sms", status="created")
    assert held.last_error == "sms_budget"
    assert held.next_attempt_at.replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(hours=1)
    assert REGISTRY.get_sample_value(
        "notify_sms_budget_used_ratio", {"school_id": SCHOOL}
    ) == pytest.approx(1.0)

    school.terminate(mother, masha, by="school", effective=datetime.now(UTC) + timedelta(days=7))
    sender.send_due(school.database)
    assert len(smsru.received) == 2
    assert "расторгает" in smsru.received[-1]["msg"]


def test_the_mother_s_phone_confirms_one_sms_and_another_expires(
    school: School, smsru: SmsRuApi
) -> None:
    a_mother_with_a_phone(school)
    sender = Sender(school.config)
    for _ in range(2):
        school.hear(lesson_changed(school.class_id, "cancellation", school.teacher))
        sender.send_due(school.database)
    first, _second = sorted(school.deliveries(channel="sms"), key=lambda d: d.provider_ref or "")
    assert (first.provider, first.provider_ref) == ("smsru", "000000-10000001")
    poller = ReceiptPoller(school.config)
    assert poller.poll(school.database) == 0  # still on its way
    smsru.fate = {"000000-10000001": 103, "000000-10000002": 104}
    assert poller.poll(school.database) == 2
    by_ref = {d.provider_ref: d for d in school.deliveries(channel="sms")}
    assert by_ref["000000-10000001"].status == "delivered"
    assert (by_ref["000000-10000002"].status, by_ref["000000-10000002"].last_error) == (
        "failed",
        "expired",
    )
    assert poller.poll(school.database) == 0  # each receipt once
