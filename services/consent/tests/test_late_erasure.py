"""A late erasure is flagged everywhere (issue 14 item 2): a revocation registered long
after it arrived warns the registrar, raises consent.erasure.overdue and the gauge behind
the ErasureOverdue alert at once, and the status and the act say by how much the legal
deadline was missed. And retention dates survive 29 February (item 5)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from pypdf import PdfReader

from consent.coordinator import Coordinator, years_after
from consent.models import Erasure
from consent.settings import ErasureSettings
from consent.sweep import Sweep
from schoolkit.db import Database

from .conftest import API, SCHOOL, new_id
from .families import World
from .test_erasure_status_and_act import confirm_all

Headers = Callable[..., dict[str, str]]
MOSCOW = ZoneInfo("Europe/Moscow")


def withdraw(
    client: FlaskClient,
    as_role: Headers,
    world: World,
    received_at: datetime,
    registrar: str | None = None,
) -> dict[str, Any]:
    family = world.a_family(SCHOOL)
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2024-02-01",
    }
    deputy = as_role("deputy_director", user=registrar)
    consent = client.post(f"{API}/consents", json=form, headers=deputy).json
    answer = client.post(
        f"{API}/consents/{consent['id']}/withdrawal",
        json={"received_at": received_at.isoformat()},
        headers=deputy,
    )
    assert answer.status_code == 200, answer.json
    return answer.json


def overdue_gauge(database_url: str) -> float:
    database = Database(database_url)
    try:
        Sweep(Coordinator(ErasureSettings()))(database)
    finally:
        database.dispose()
    return REGISTRY.get_sample_value("erasures_overdue") or 0.0


def test_a_revocation_registered_after_its_deadline_is_flagged_from_the_first_answer_to_the_act(
    client: FlaskClient, as_role: Headers, world: World, database_url: str, published
) -> None:
    registrar = new_id()
    received = datetime.now(UTC) - timedelta(days=20)  # the paper lay in a drawer
    withdrawn = withdraw(client, as_role, world, received, registrar)
    erasure_id = withdrawn["erasure_id"]

    [warning] = withdrawn["warnings"]
    assert warning["code"] == "deadline_missed"
    [overdue] = published("consent.erasure.overdue")
    assert overdue["data"]["erasure_id"] == erasure_id
    assert len(overdue["data"]["missing_participants"]) == 6
    status = client.get(f"{API}/erasures/{erasure_id}", headers=as_role("director")).json
    assert status["deadline_missed"] is True
    assert status["late_by_seconds"] > 10 * 24 * 3600

    confirm_all(database_url, erasure_id)
    act = client.get(f"{API}/erasures/{erasure_id}/act.json", headers=as_role("director")).json
    assert act["status"] == "finished"
    assert (act["deadline_missed"], act["registered_by"]) == (True, registrar)
    assert act["late_by_seconds"] > 10 * 24 * 3600
    assert "дн." in act["late_by"]
    assert "deadline_missed" in [entry["what"] for entry in act["log"]]
    pdf = client.get(f"{API}/erasures/{erasure_id}/act.pdf", headers=as_role("director"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "СРОК УНИЧТОЖЕНИЯ НАРУШЕН" in text
    # Finished in seconds, but late: the alert's gauge still counts it.
    assert overdue_gauge(database_url) >= 1


def test_a_revocation_registered_at_once_warns_nobody(
    client: FlaskClient, as_role: Headers, world: World, database_url: str, published
) -> None:
    withdrawn = withdraw(client, as_role, world, datetime.now(UTC) - timedelta(minutes=1))
    assert withdrawn["warnings"] == []
    assert published("consent.erasure.overdue") == []
    confirm_all(database_url, withdrawn["erasure_id"])
    act = client.get(
        f"{API}/erasures/{withdrawn['erasure_id']}/act.json", headers=as_role("director")
    ).json
    assert (act["deadline_missed"], act["late_by_seconds"], act["late_by"]) == (False, 0, None)
    assert overdue_gauge(database_url) == 0


def an_erasure_received(received: datetime, settings: ErasureSettings) -> Erasure:
    deadline = settings.calendar.deadline(received, settings.working_days)
    return Erasure(received_at=received, deadline=deadline, finished_at=None)


def test_the_registrar_is_warned_once_a_working_day_has_passed_since_receipt() -> None:
    settings = ErasureSettings()
    coordinator = Coordinator(settings)
    # Received on Friday 14 November 2025 at 10:00; due by Wednesday 19 November, 23:59:59.
    erasure = an_erasure_received(datetime(2025, 11, 14, 10, tzinfo=MOSCOW), settings)

    def codes(now: datetime) -> list[str]:
        return [warning.code for warning in coordinator.warnings(erasure, now)]

    assert codes(datetime(2025, 11, 14, 18, tzinfo=MOSCOW)) == []
    assert codes(datetime(2025, 11, 18, 9, tzinfo=MOSCOW)) == ["registered_late"]
    assert codes(datetime(2025, 11, 20, 9, tzinfo=MOSCOW)) == ["deadline_missed"]


def test_a_revocation_received_on_29_february_keeps_what_the_law_asks_until_28_february(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    withdraw(client, as_role, world, datetime(2024, 2, 29, 10, tzinfo=MOSCOW))
    [request] = published("consent.erasure.requested")
    until = {kept["category"]: kept["until"] for kept in request["data"]["retain"]}
    # Civil Code art. 192 p. 3: a term in years with no such day ends on the month's last.
    assert until == {"final_marks": "2049-02-28", "erasure_act": "2027-02-28"}


def test_a_term_in_years_keeps_the_day_when_it_exists() -> None:
    assert years_after(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert years_after(date(2025, 11, 14), 25) == date(2050, 11, 14)
