"""Notify's API: each person chooses their channels; staff see what reached whom, not how."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from notify.app import create_app
from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.schemas import delivery_state
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.testing import TokenIssuer
from schoolkit.times import school_zone

from .events import SCHOOL, contact_changed, event, new_id
from .families import School, absence, away_from_now, news_config

GUARDIAN = new_id()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    upgrade("notify", sqlite_url)
    return sqlite_url


@pytest.fixture
def client(database_url: str, token_issuer: TokenIssuer) -> FlaskClient:
    settings = Settings.from_env(
        "notify", database_url=database_url, **token_issuer.settings_overrides()
    )
    return create_app(settings).test_client()


def as_person(
    token_issuer: TokenIssuer, person_id: str, *roles: str, school: str = SCHOOL
) -> dict[str, str]:
    return token_issuer.bearer(sub=person_id, school_id=school, roles=list(roles))


def test_a_guardian_turns_sms_off_and_reads_it_back(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    me = as_person(token_issuer, GUARDIAN, "guardian")
    assert client.get(f"/api/notify/v1/preferences/{GUARDIAN}", headers=me).json["sms"] is True
    answer = client.put(
        f"/api/notify/v1/preferences/{GUARDIAN}", json={"email": True, "sms": False}, headers=me
    )
    assert answer.status_code == 200
    chosen = client.get(f"/api/notify/v1/preferences/{GUARDIAN}", headers=me).json
    assert {key: chosen[key] for key in ("person_id", "email", "sms")} == {
        "person_id": GUARDIAN,
        "email": True,
        "sms": False,
    }
    assert chosen["legal_notices_always_sent"] is True


def test_another_family_cannot_even_see_that_a_guardian_has_preferences(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    stranger = as_person(token_issuer, new_id(), "guardian")
    assert client.get(f"/api/notify/v1/preferences/{GUARDIAN}", headers=stranger).status_code == 404
    put = client.put(
        f"/api/notify/v1/preferences/{GUARDIAN}",
        json={"email": False, "sms": False},
        headers=stranger,
    )
    assert put.status_code == 404


def test_an_administrator_sets_channels_only_for_people_of_their_own_school(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str
) -> None:
    queue_a_block_notice(database_url, GUARDIAN)  # notify knows GUARDIAN, of SCHOOL
    silence = {"email": False, "sms": False}
    other_admin = as_person(token_issuer, new_id(), "administrator", school="school-other")
    for person_id in (GUARDIAN, new_id()):  # another school's person; one never heard of
        answer = client.put(
            f"/api/notify/v1/preferences/{person_id}", json=silence, headers=other_admin
        )
        assert answer.status_code == 404
    own_admin = as_person(token_issuer, new_id(), "administrator")
    untouched = client.get(f"/api/notify/v1/preferences/{GUARDIAN}", headers=own_admin)
    assert (untouched.json["email"], untouched.json["sms"]) == (True, True)

    answer = client.put(f"/api/notify/v1/preferences/{GUARDIAN}", json=silence, headers=own_admin)
    assert answer.status_code == 200


def test_a_channel_switch_that_is_not_yes_or_no_is_named(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    me = as_person(token_issuer, GUARDIAN, "guardian")
    answer = client.put(
        f"/api/notify/v1/preferences/{GUARDIAN}", json={"email": "maybe"}, headers=me
    )
    assert answer.status_code == 422
    assert set(answer.json["error"]["fields"]) == {"email"}


def test_a_guardian_wants_marks_in_the_evening_digest_and_sms_for_absences_never(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    me = as_person(token_issuer, GUARDIAN, "guardian")
    url = f"/api/notify/v1/preferences/{GUARDIAN}"
    before = client.get(url, headers=me).json
    assert before["categories"]["mark"] == {
        "email": "immediately",
        "sms": "never",
        "push": "immediately",
    }
    assert before["categories"]["absence"]["sms"] == "immediately"
    assert before["quiet_hours"] == {"from": "21:00", "until": "08:00"}
    wanted = {
        "categories": {"mark": {"email": "daily"}, "absence": {"sms": "never"}},
        "quiet_hours": {"from": "22:30", "until": "07:00"},
        "digest_at": "20:15",
        "weekly_on": "friday",
    }
    assert client.put(url, json=wanted, headers=me).status_code == 200
    after = client.get(url, headers=me).json
    assert after["categories"]["mark"] == {"email": "daily", "sms": "never", "push": "immediately"}
    assert after["categories"]["absence"]["sms"] == "never"
    assert after["categories"]["absence"]["email"] == "immediately"  # untouched
    assert (after["quiet_hours"], after["digest_at"], after["weekly_on"]) == (
        {"from": "22:30", "until": "07:00"},
        "20:15",
        "friday",
    )
    assert after["time_zone"] == "Europe/Moscow"
    assert "agreement_terminated" in after["categories"]  # shown, always immediately


@pytest.mark.parametrize(
    ("wanted", "field"),
    [
        ({"quiet_hours": {"from": "21:00", "until": "21:00"}}, "quiet_hours"),
        ({"digest_at": "25:00"}, "digest_at"),
        ({"digest_at": "19:60"}, "digest_at"),
        ({"quiet_hours": {"from": "9pm", "until": "08:00"}}, "quiet_hours.from"),
        ({"categories": {"mark": {"email": "hourly"}}}, "categories.mark.email"),
        ({"categories": {"agreement_terminated": {"email": "never"}}}, "categories.agreement"),
        ({"categories": {"mark": {"pigeon": "daily"}}}, "categories.mark.pigeon"),
        ({"weekly_on": "someday"}, "weekly_on"),
    ],
)
def test_a_choice_that_cannot_be_kept_is_refused_naming_its_field(
    client: FlaskClient, token_issuer: TokenIssuer, wanted: dict[str, Any], field: str
) -> None:
    me = as_person(token_issuer, GUARDIAN, "guardian")
    answer = client.put(f"/api/notify/v1/preferences/{GUARDIAN}", json=wanted, headers=me)
    assert answer.status_code == 422
    assert any(name.startswith(field) for name in answer.json["error"]["fields"]), answer.json


def queue_a_block_notice(database_url: str, person_id: str) -> None:
    database = Database(database_url)
    handlers = build_handlers(DeliveryConfig())
    blocked = event(
        "identity.account.blocked", person_id, user_id=person_id, person_id=person_id, notice=True
    )
    for incoming in (contact_changed(person_id, "teacher@example.org"), blocked):
        with database.transaction() as session:
            handlers[incoming.type](session, incoming)
    database.dispose()


def test_the_administrator_sees_which_notices_are_pending_without_addresses(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str
) -> None:
    queue_a_block_notice(database_url, GUARDIAN)
    admin = as_person(token_issuer, new_id(), "administrator")
    answer = client.get(f"/api/notify/v1/deliveries?recipient_id={GUARDIAN}", headers=admin)
    assert answer.status_code == 200
    [delivery] = answer.json["items"]
    assert (delivery["notice"], delivery["status"]) == ("account_blocked", "pending")
    assert "teacher@example.org" not in answer.get_data(as_text=True)


def test_deliveries_of_one_school_are_not_shown_to_another(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str
) -> None:
    queue_a_block_notice(database_url, GUARDIAN)
    other_admin = as_person(token_issuer, new_id(), "administrator", school="school-other")
    assert client.get("/api/notify/v1/deliveries", headers=other_admin).json["items"] == []


@pytest.mark.parametrize("roles", [("guardian",), ("subject_teacher",), ("operations",)])
def test_only_the_school_leadership_reads_deliveries(
    client: FlaskClient, token_issuer: TokenIssuer, roles: tuple[str, ...]
) -> None:
    answer = client.get(
        "/api/notify/v1/deliveries", headers=as_person(token_issuer, new_id(), *roles)
    )
    assert answer.status_code == 403


def test_an_unknown_status_filter_is_a_clear_422(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    admin = as_person(token_issuer, new_id(), "administrator")
    answer: Any = client.get("/api/notify/v1/deliveries?status=lost", headers=admin)
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "invalid_status"


def test_deliveries_are_read_a_page_at_a_time_newest_first_to_the_end(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str
) -> None:
    """Issue 14 §9: the list stopped at 100 deliveries with no way to the older ones."""
    for _ in range(5):
        queue_a_block_notice(database_url, new_id())
    admin = as_person(token_issuer, new_id(), "administrator")
    everything = client.get("/api/notify/v1/deliveries?limit=500", headers=admin).json
    assert everything["next"] is None and len(everything["items"]) >= 5

    pages: list[Any] = []
    url: str | None = "/api/notify/v1/deliveries?limit=2"
    while url:
        answer: Any = client.get(url, headers=admin)
        assert answer.status_code == 200
        pages.append(answer.json["items"])
        cursor = answer.json["next"]
        assert ("Link" in answer.headers) == (cursor is not None)
        url = f"/api/notify/v1/deliveries?limit=2&cursor={cursor}" if cursor else None

    assert len(pages) > 2 and all(len(page) == 2 for page in pages[:-1])
    assert [d["id"] for page in pages for d in page] == [d["id"] for d in everything["items"]]
    times = [d["created_at"] for d in everything["items"]]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "cursor=bm9wZQ"])
def test_a_page_size_out_of_range_or_a_forged_cursor_is_a_422(
    client: FlaskClient, token_issuer: TokenIssuer, query: str
) -> None:
    admin = as_person(token_issuer, new_id(), "administrator")
    answer: Any = client.get(f"/api/notify/v1/deliveries?{query}", headers=admin)
    assert answer.status_code == 422
    assert set(answer.json["error"]["fields"]) == {query.split("=", maxsplit=1)[0]}


def test_an_absence_held_by_quiet_hours_is_already_a_delivery_the_school_can_see(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str
) -> None:
    quiet_from, quiet_until = away_from_now(0)
    config = news_config(DeliveryConfig(), quiet_from=quiet_from, quiet_until=quiet_until)
    school = School(Database(database_url), config)
    masha = school.child("Мария", "Иванова")
    mother = school.guardian("mother@example.org", masha)
    school.hear(absence(masha))

    admin = as_person(token_issuer, new_id(), "administrator")
    answer = client.get("/api/notify/v1/deliveries?status=created", headers=admin)
    [held] = answer.json["items"]
    assert (held["recipient_id"], held["category"], held["student_id"]) == (
        mother,
        "absence",
        masha,
    )
    planned = datetime.fromisoformat(held["planned_at"])
    assert planned.utcoffset() is not None  # every date-time carries its offset
    assert planned.astimezone(school_zone()).strftime("%H:%M") == quiet_until
    assert held["state"] == "created"
    assert "address" not in held and "body" not in held


@pytest.mark.parametrize(
    ("status", "last_error", "state"),
    [
        ("created", None, "created"),
        ("pending", "SMTPServerDisconnected", "created"),
        ("sending", None, "sending"),
        ("sent", None, "sent"),
        ("delivered", None, "delivered"),
        ("failed", "expired", "temporary-failure"),
        ("failed", "invalid_address", "permanent-failure"),
        ("failed", "no_contact", "permanent-failure"),
        ("failed", "provider_error", "temporary-failure"),
        ("failed", "outcome_unknown", "technical-failure"),
        ("cancelled", "agreement_ended", "cancelled"),
    ],
)
def test_the_school_reads_each_delivery_in_the_words_providers_use(
    status: str, last_error: str | None, state: str
) -> None:
    assert delivery_state(status, last_error) == state
