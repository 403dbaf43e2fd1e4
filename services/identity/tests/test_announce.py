"""`identity-announce`: a school's people and families, told again to whoever copies them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from sqlalchemy import delete

from identity.announce import announce, main
from schoolkit.tables import outbox

from .conftest import Provider


def test_an_upgraded_school_announces_every_person_and_family_at_their_versions(
    provider: Provider, admin: dict, make_person: Callable[..., dict[str, Any]]
) -> None:
    guardian = make_person("guardian", last_name="Петрова")
    student = make_person("student", birth_date="2015-04-01")
    linked = requests.post(
        provider.api("/v1/guardianships"),
        json={"guardian_id": guardian["id"], "student_id": student["id"]},
        headers=admin,
        timeout=10,
    )
    assert linked.status_code == 201, linked.text
    requests.patch(
        provider.api(f"/v1/people/{guardian['id']}"),
        json={"first_name": "Анна"},
        headers=admin,
        timeout=10,
    ).raise_for_status()
    with provider.database.transaction() as session:
        session.execute(delete(outbox))  # long since sent

    with provider.database.transaction() as session:
        done = announce(session, "school-1")

    people = {e["data"]["person_id"]: e for e in provider.published("identity.person.changed")}
    assert done.people == len(people) == 3  # the administrator, the guardian, the student
    assert people[guardian["id"]]["data"]["entity_version"] == 2  # its current version
    assert people[guardian["id"]]["data"]["first_name"] == "Анна"
    [family] = provider.published("identity.guardian.linked")
    assert (family["data"]["guardian_id"], family["data"]["student_id"]) == (
        guardian["id"],
        student["id"],
    )
    assert {e["school_id"] for e in people.values()} == {"school-1"}  # not school-2's admin


def test_the_command_needs_the_school_and_says_what_it_queued(
    provider: Provider, monkeypatch: Any, capsys: Any
) -> None:
    url = provider.database.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("IDENTITY_DATABASE_URL", url)

    assert main(["--school", "school-2"]) == 0

    assert "announced: 1 people, 0 guardianships" in capsys.readouterr().out
