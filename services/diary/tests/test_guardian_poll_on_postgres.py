"""A guardian's poll on PostgreSQL: one statement grants access and makes the ETag, as deployed.

The other API tests run on SQLite; the guardian's combined statement and the reads outside
a transaction are PostgreSQL's business in production, so they are held here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from diary.testing import SchoolEvents, new_id
from schoolkit.auth import DEPUTY_DIRECTOR, GUARDIAN
from schoolkit.db import Database
from schoolkit.migrate import upgrade

from .conftest import Apply, Caller
from .scene import Scene, class_5a_this_week


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    upgrade("diary", postgres_url)
    database = Database(postgres_url)
    yield database
    database.dispose()


@pytest.fixture
def scene(school: SchoolEvents, apply: Apply) -> Scene:
    return class_5a_this_week(school, apply)


def _week(caller: Caller, scene: Scene, user_id: str, role: str, **kwargs: object) -> object:
    return caller.get(f"/students/{scene.family.student_id}/week", user_id, role, **kwargs)


def _sent_to_postgres(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the driver sends, SQLAlchemy's and the kit's HotRead's alike."""
    statements: list[str] = []
    execute = psycopg.Cursor.execute

    def counting(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    return statements


def test_the_guardians_etag_is_the_general_one_and_a_repeated_poll_costs_one_statement(
    caller: Caller, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    guardian = scene.family.guardian_id
    first = _week(caller, scene, guardian, GUARDIAN)
    assert first.status_code == 200
    assert first.headers["ETag"] == _week(caller, scene, new_id(), DEPUTY_DIRECTOR).headers["ETag"]
    statements = _sent_to_postgres(monkeypatch)
    etag = {"If-None-Match": first.headers["ETag"]}
    assert _week(caller, scene, guardian, GUARDIAN, headers=etag).status_code == 304
    assert _week(caller, scene, guardian, GUARDIAN).get_json() == first.get_json()
    # The deny-list snapshot may be reloaded in between (two statements of its own).
    diary_statements = [s for s in statements if "denied_users" not in s and "revoked" not in s]
    assert len(diary_statements) == 2, diary_statements  # one per poll


def test_another_guardian_and_an_ended_agreement_get_404(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    assert _week(caller, scene, new_id(), GUARDIAN).status_code == 404
    guardian = scene.family.guardian_id
    apply(school.revocation(guardian, scene.family.student_id))
    assert _week(caller, scene, guardian, GUARDIAN).status_code == 404


def test_a_new_mark_changes_the_guardians_etag(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    guardian = scene.family.guardian_id
    etag = _week(caller, scene, guardian, GUARDIAN).headers["ETag"]
    apply(school.mark(scene.family.student_id, scene.maths, 5))
    changed = _week(caller, scene, guardian, GUARDIAN, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert [m["value"] for m in changed.get_json()["days"][0]["lessons"][0]["marks"]] == ["5"]
