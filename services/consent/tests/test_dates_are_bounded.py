"""Dates a registrar types are bounded (issue 14 item 13): a revocation is not received in
the year 0779 nor tomorrow, a document is not signed before its version existed nor in the
future, a school's notice does not take effect in the past. Each is a 422 naming the field,
and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from .conftest import API, SCHOOL
from .families import World

Headers = Callable[..., dict[str, str]]
DEPUTY = "deputy_director"
DATE_FIELDS = {"consents": "signed_on", "agreements": "applied_on"}


def a_consent(client: FlaskClient, as_role: Headers, world: World) -> dict[str, Any]:
    family = world.a_family(SCHOOL)
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2025-09-01",
    }
    answer = client.post(f"{API}/consents", json=form, headers=as_role(DEPUTY))
    assert answer.status_code == 201, answer.json
    return answer.json


def tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    "received_at",
    [
        "0779-11-14T10:00:00+00:00",  # the audit's
        "2025-08-31T10:00:00+00:00",  # the day before the consent was signed
        "tomorrow",
    ],
)
def test_a_revocation_received_before_the_consent_or_in_the_future_is_a_422(
    client: FlaskClient, as_role: Headers, world: World, published, received_at: str
) -> None:
    consent = a_consent(client, as_role, world)
    body = {"received_at": tomorrow() if received_at == "tomorrow" else received_at}
    answer = client.post(
        f"{API}/consents/{consent['id']}/withdrawal", json=body, headers=as_role(DEPUTY)
    )
    assert answer.status_code == 422
    assert list(answer.json["error"]["fields"]) == ["received_at"]
    again = client.get(f"{API}/consents/{consent['id']}", headers=as_role(DEPUTY)).json
    assert again["status"] == "given"
    assert published("consent.revoked") == []
    assert published("consent.erasure.requested") == []


def test_a_revocation_a_minute_ahead_of_our_clock_is_accepted(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    consent = a_consent(client, as_role, world)
    body = {"received_at": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}
    answer = client.post(
        f"{API}/consents/{consent['id']}/withdrawal", json=body, headers=as_role(DEPUTY)
    )
    assert answer.status_code == 200, answer.json


@pytest.mark.parametrize("path", ["consents", "agreements"])
@pytest.mark.parametrize("day", ["0779-09-01", "2021-08-31", "tomorrow"])
def test_a_document_dated_before_its_version_existed_or_in_the_future_is_a_422(
    client: FlaskClient, as_role: Headers, world: World, path: str, day: str
) -> None:
    field = DATE_FIELDS[path]
    family = world.a_family(SCHOOL)
    form: dict[str, Any] = {"guardian_id": family.guardian_id, "student_id": family.student_id}
    if path == "consents":
        form |= {"representation": "parent", "decision": "given"}
    # The templates' first version took effect on 2021-09-01.
    form[field] = (
        (datetime.now(UTC) + timedelta(days=2)).date().isoformat() if day == "tomorrow" else day
    )
    answer = client.post(f"{API}/{path}", json=form, headers=as_role(DEPUTY))
    assert answer.status_code == 422
    assert list(answer.json["error"]["fields"]) == [field]
    assert client.get(f"{API}/{path}", headers=as_role(DEPUTY)).json == []


@pytest.mark.parametrize("shift", [timedelta(days=-1), timedelta(days=400)])
def test_a_schools_termination_takes_effect_neither_in_the_past_nor_years_ahead(
    client: FlaskClient, as_role: Headers, world: World, published, shift: timedelta
) -> None:
    family = world.a_family(SCHOOL)
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "applied_on": "2025-09-02",
    }
    agreement = client.post(f"{API}/agreements", json=form, headers=as_role(DEPUTY)).json
    body = {"by": "school", "effective_at": (datetime.now(UTC) + shift).isoformat()}
    answer = client.post(
        f"{API}/agreements/{agreement['id']}/termination", json=body, headers=as_role(DEPUTY)
    )
    assert answer.status_code == 422
    assert list(answer.json["error"]["fields"]) == ["effective_at"]
    assert published("consent.agreement.terminated") == []
    again = client.get(f"{API}/agreements/{agreement['id']}", headers=as_role(DEPUTY)).json
    assert again["status"] == "in_force"
