"""Every change of journal data is in a per-school hash chain that shows tampering (R-SEC-4)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from journal import audit_cli

from . import test_lessons_and_marks
from .conftest import API, Caller
from .test_lessons_and_marks import School, give_mark, open_lesson

school = test_lessons_and_marks.school  # the fixture: a year, a class, a teacher with a load


def verify(client: FlaskClient, caller: Caller) -> Any:
    answer = client.get(f"{API}/audit/verify", headers=caller("deputy_director"))
    assert answer.status_code == 200
    return answer.json


# The school fixture's set-up is in the chain too: the year, its period and holiday, the
# subject, the class, two work types, the student's enrolment and the class's teaching
# load; then the lesson opened by hand. The mark's three changes follow them.
SET_UP_AND_LESSON = 10


def three_changes(client: FlaskClient, school: School) -> None:
    lesson_id = open_lesson(client, school)
    mark_id = give_mark(client, school, lesson_id, "3")
    client.patch(f"{API}/marks/{mark_id}", json={"value": "4"}, headers=school.maths_teacher)
    client.delete(f"{API}/marks/{mark_id}", headers=school.maths_teacher)


def test_a_mark_added_changed_and_removed_leaves_three_links_and_the_chain_holds(
    client: FlaskClient, school: School, caller: Caller
) -> None:
    three_changes(client, school)
    entries = SET_UP_AND_LESSON + 3
    assert verify(client, caller) == {"intact": True, "entries": entries, "first_broken_seq": None}


def test_rewriting_a_past_entry_in_the_database_is_found_at_that_link(
    client: FlaskClient, school: School, caller: Caller, database_url: str
) -> None:
    three_changes(client, school)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET author_id = 'someone-else' WHERE seq = 2")
        )
    engine.dispose()
    assert verify(client, caller)["first_broken_seq"] == 2


def test_rewriting_the_values_of_a_past_set_up_entry_is_found_at_that_link(
    client: FlaskClient, school: School, caller: Caller, database_url: str
) -> None:
    three_changes(client, school)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        # The class's entry: its digest made to stand for other before/after values.
        seq = connection.execute(
            text("SELECT seq FROM audit_entries WHERE entity = 'class'")
        ).scalar_one()
        connection.execute(
            text("UPDATE audit_entries SET values_digest = :digest WHERE seq = :seq"),
            {"digest": "0" * 64, "seq": seq},
        )
    engine.dispose()
    assert verify(client, caller)["first_broken_seq"] == seq


def test_deleting_a_past_entry_is_found_where_the_chain_breaks(
    client: FlaskClient, school: School, caller: Caller, database_url: str
) -> None:
    three_changes(client, school)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    engine.dispose()
    verdict = verify(client, caller)
    assert (verdict["intact"], verdict["first_broken_seq"]) == (False, 2)


def test_the_values_are_kept_outside_the_chain_and_their_loss_does_not_break_it(
    client: FlaskClient, school: School, caller: Caller, database_url: str
) -> None:
    three_changes(client, school)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        values = connection.execute(text("SELECT count(*) FROM audit_values")).scalar()
        assert values == SET_UP_AND_LESSON + 3
        connection.execute(text("DELETE FROM audit_values"))
    engine.dispose()
    assert verify(client, caller)["intact"] is True


def test_a_subject_teacher_cannot_run_the_verification(client: FlaskClient, caller: Caller) -> None:
    assert client.get(f"{API}/audit/verify", headers=caller("subject_teacher")).status_code == 403


def test_the_audit_verify_command_exits_non_zero_and_names_the_broken_link(
    client: FlaskClient, school: School, database_url: str, capsys: Any
) -> None:
    three_changes(client, school)
    assert audit_cli.main(["--database-url", database_url]) == 0
    engine = create_engine(database_url)
    with engine.begin() as connection:
        # The mark's removal, the last entry, made to read as an addition.
        removal = SET_UP_AND_LESSON + 3
        connection.execute(text(f"UPDATE audit_entries SET action = 'added' WHERE seq = {removal}"))
    engine.dispose()
    assert audit_cli.main(["--database-url", database_url]) == 1
    assert f"BROKEN at entry {removal}" in capsys.readouterr().out
