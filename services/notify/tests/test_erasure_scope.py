"""Notify erases only within the erasure's school, and writes nothing for an erased person
again, even with a token of theirs still valid (DESIGN §4 6a)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from notify.app import create_app
from notify.config import DeliveryConfig
from notify.models import Contact, Delivery, Guardianship, PendingNotice, Preference
from schoolkit import tombstones
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.tables import denied_users
from schoolkit.testing import TokenIssuer

from .events import SCHOOL, erasure_requested, event, new_id
from .test_erasure_notice import a_family, apply, published

OTHER_SCHOOL = "school-255"


def in_school(event: Event, school_id: str) -> Event:
    return dataclasses.replace(event, school_id=school_id)


def count(database: Database, model: type) -> int:
    with database.transaction() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_another_schools_erasure_naming_our_family_leaves_it_alone(
    notify_database: Database, delivery_config: DeliveryConfig
) -> None:
    guardian, student = a_family(notify_database, delivery_config)
    with notify_database.transaction() as session:
        session.add(Preference(person_id=guardian, school_id=SCHOOL, email=True, sms=False))
    subjects = [(student, "student"), (guardian, "guardian")]
    foreign = in_school(erasure_requested(new_id(), subjects), OTHER_SCHOOL)

    apply(notify_database, delivery_config, foreign)

    [confirmation] = published(notify_database, "notify.erasure.completed")
    assert set(confirmation["data"]["counts"].values()) == {0}
    assert confirmation["data"]["retained"] == []
    assert (count(notify_database, Contact), count(notify_database, Guardianship)) == (2, 1)
    assert count(notify_database, Preference) == 1
    assert count(notify_database, PendingNotice) == 0  # no notice to another school's family
    with notify_database.transaction() as session:
        assert not tombstones.is_erased(session, SCHOOL, guardian, student)


def test_an_erased_guardians_still_valid_token_writes_no_preferences(
    sqlite_url: str, token_issuer: TokenIssuer, delivery_config: DeliveryConfig
) -> None:
    upgrade("notify", sqlite_url)
    database = Database(sqlite_url)
    guardian, _student = a_family(database, delivery_config)
    apply(database, delivery_config, erasure_requested(new_id(), [(guardian, "guardian")]))
    settings = Settings.from_env(
        "notify", database_url=sqlite_url, **token_issuer.settings_overrides()
    )
    client = create_app(settings).test_client()
    # Issued before the erasure; the deny-list has not heard of it in this test.
    token = token_issuer.bearer(sub=guardian, school_id=SCHOOL, roles=["guardian"])

    answer = client.put(
        f"/api/notify/v1/preferences/{guardian}", json={"email": False, "sms": False}, headers=token
    )

    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"
    assert client.get(f"/api/notify/v1/preferences/{guardian}", headers=token).status_code == 404
    assert count(database, Preference) == 0
    database.dispose()


def test_a_late_block_of_an_erased_guardian_denies_her_tokens_and_tells_no_one(
    notify_database: Database, delivery_config: DeliveryConfig
) -> None:
    guardian, _student = a_family(notify_database, delivery_config)
    apply(notify_database, delivery_config, erasure_requested(new_id(), [(guardian, "guardian")]))
    blocked = event(
        "identity.account.blocked", guardian, user_id=guardian, person_id=guardian, notice=True
    )

    apply(notify_database, delivery_config, blocked)

    with notify_database.transaction() as session:
        denied = session.scalars(select(denied_users.c.user_id)).all()
    assert denied == [guardian]
    assert count(notify_database, Delivery) == 0
