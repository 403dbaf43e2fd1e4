"""The erasure's status and its act of destruction (R-PD-4), as staff read them."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask.testing import FlaskClient
from pypdf import PdfReader

from consent.coordinator import Coordinator
from consent.policy import load_policy
from consent.settings import ErasureSettings
from schoolkit.db import Database
from schoolkit.events import Event

from .conftest import API, SCHOOL
from .families import World

Headers = Callable[..., dict[str, str]]


def an_open_erasure(
    client: FlaskClient,
    as_role: Headers,
    world: World,
    received_at: str = "2025-11-14T10:00:00+00:00",
) -> str:
    family = world.a_family(SCHOOL)
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2025-09-01",
    }
    teacher = as_role("class_teacher", user=family.class_teacher_id)
    consent = client.post(f"{API}/consents", json=form, headers=teacher).json
    body = {"received_at": received_at}
    answer = client.post(f"{API}/consents/{consent['id']}/withdrawal", json=body, headers=teacher)
    assert answer.status_code == 200, answer.json
    return answer.json["erasure_id"]


def confirm_all(database_url: str, erasure_id: str) -> None:
    coordinator = Coordinator(ErasureSettings(policy=load_policy()))
    database = Database(database_url)
    for participant in sorted(coordinator.settings.policy.participants):
        data = {
            "erasure_id": erasure_id,
            "participant": participant,
            "counts": {"records": 3},
            "retained": [],
            "completed_at": "2025-11-14T10:00:02.000Z",
        }
        with database.transaction() as session:
            coordinator.confirm(session, Event(f"{participant}.erasure.completed", data, SCHOOL))
    database.dispose()


def test_staff_see_which_participants_are_still_waiting(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    erasure_id = an_open_erasure(client, as_role, world)
    status = client.get(f"{API}/erasures/{erasure_id}", headers=as_role("deputy_director")).json
    assert status["status"] == "open"
    assert {p["participant"] for p in status["participants"]} == {
        "identity",
        "journal",
        "diary",
        "notify",
        "archive",
        "consent",
    }
    assert {p["state"] for p in status["participants"]} == {"waiting"}
    not_yet = client.get(
        f"{API}/erasures/{erasure_id}/act.json", headers=as_role("deputy_director")
    )
    assert (not_yet.status_code, not_yet.json["error"]["code"]) == (409, "erasure_not_finished")


def test_the_list_filters_by_status_and_refuses_one_that_does_not_exist(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    erasure_id = an_open_erasure(client, as_role, world)
    director = as_role("director")

    open_ones = client.get(f"{API}/erasures?status=open", headers=director).json
    finished = client.get(f"{API}/erasures?status=finished", headers=director).json
    unknown = client.get(f"{API}/erasures?status=done", headers=director)

    assert [e["id"] for e in open_ones] == [erasure_id] and finished == []
    assert unknown.status_code == 422
    assert unknown.json["error"]["fields"] == {"status": "One of: open, finished."}


def test_the_act_names_every_system_its_counts_the_method_and_the_log(
    client: FlaskClient, as_role: Headers, world: World, database_url: str
) -> None:
    erasure_id = an_open_erasure(client, as_role, world)
    confirm_all(database_url, erasure_id)
    act = client.get(f"{API}/erasures/{erasure_id}/act.json", headers=as_role("director")).json
    assert act["status"] == "finished"
    assert len(act["systems"]) == 6
    assert all(system["counts"] == {"records": 3} for system in act["systems"])
    assert "криптографическое стирание" in act["method"]
    assert act["reason_text"].startswith("отзыв согласия")
    assert [entry["what"] for entry in act["log"]].count("confirmed") == 6

    pdf = client.get(f"{API}/erasures/{erasure_id}/act.pdf", headers=as_role("director"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "об уничтожении персональных данных" in text
    assert "Электронный журнал (journal)" in text
    assert "Выгрузка из журнала событий" in text


def test_a_confirmation_arriving_twice_counts_once_toward_finishing(
    client: FlaskClient, as_role: Headers, world: World, database_url: str, published
) -> None:
    erasure_id = an_open_erasure(client, as_role, world)
    confirm_all(database_url, erasure_id)
    confirm_all(database_url, erasure_id)
    assert len(published("consent.erasure.finished")) == 1


def test_teachers_and_other_schools_do_not_read_erasures(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    erasure_id = an_open_erasure(client, as_role, world)
    assert (
        client.get(f"{API}/erasures/{erasure_id}", headers=as_role("class_teacher")).status_code
        == 403
    )
    other = as_role("director", school="school-other")
    assert client.get(f"{API}/erasures/{erasure_id}", headers=other).status_code == 404
