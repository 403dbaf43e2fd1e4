"""The erasure participant's handler: erase, bury, confirm, all in the handler's transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from schoolkit import tombstones
from schoolkit.db import Database
from schoolkit.erasure import ErasureOutcome, ErasureRequest, Retention, erasure_handler
from schoolkit.events import Event
from schoolkit.outbox import default_contracts
from schoolkit.settings import project_root
from schoolkit.tables import kit_metadata, outbox


def erasure_request_event() -> Event:
    example = project_root() / "contracts/examples/consent.erasure.requested.v1.json"
    return Event.from_dict(json.loads(example.read_text(encoding="utf-8")))


@pytest.fixture
def database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'participant.db'}")
    kit_metadata.create_all(database.engine)
    return database


def erase_two_marks_and_keep_finals(_session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    outcome.count("marks", 2)
    kept = request.retention_of("final_marks")
    assert kept is not None
    outcome.retained.append(kept)
    return outcome


def confirmations(session: Session) -> list[dict]:
    bodies = session.execute(select(outbox.c.body)).scalars()
    return [json.loads(body) for body in bodies]


def test_a_participant_buries_every_subject_and_confirms_with_its_counts(
    database: Database,
) -> None:
    handle = erasure_handler("journal", erase_two_marks_and_keep_finals)
    event = erasure_request_event()
    with database.transaction() as session:
        handle(session, event)
    with database.transaction() as session:
        assert tombstones.is_erased(session, "school-254", "b9604152-fa90-5f7b-8dbe-8739744fa448")
        assert tombstones.is_erased(session, "school-254", "069d8e5e-565e-5d8e-bcd1-89c739048fd8")
        [confirmation] = confirmations(session)
    default_contracts().validate(confirmation)
    assert confirmation["type"] == "journal.erasure.completed"
    assert confirmation["data"]["erasure_id"] == event.data["erasure_id"]
    assert confirmation["data"]["counts"] == {"marks": 2}
    assert confirmation["data"]["retained"] == [
        {
            "category": "final_marks",
            "basis": "Федеральный закон № 273-ФЗ, ст. 28 ч. 3 п. 11",
            "until": "2075-12-31",
        }
    ]


def test_asked_twice_a_participant_confirms_twice_and_buries_once(database: Database) -> None:
    handle = erasure_handler("journal", erase_two_marks_and_keep_finals)
    for _ in range(2):
        with database.transaction() as session:
            handle(session, erasure_request_event())
    with database.transaction() as session:
        assert len(confirmations(session)) == 2


def test_when_erasing_fails_nothing_is_buried_and_nothing_confirmed(database: Database) -> None:
    def fail(_session: Session, _request: ErasureRequest) -> ErasureOutcome:
        raise RuntimeError("disk full")

    handle = erasure_handler("journal", fail)
    with pytest.raises(RuntimeError), database.transaction() as session:
        handle(session, erasure_request_event())
    with database.transaction() as session:
        assert not tombstones.is_erased(
            session, "school-254", "b9604152-fa90-5f7b-8dbe-8739744fa448"
        )
        assert confirmations(session) == []


def test_a_retention_keeps_its_date_only_when_the_basis_sets_one() -> None:
    assert Retention("marks", "law").to_dict() == {"category": "marks", "basis": "law"}


def test_a_request_that_leaves_some_of_a_participants_data_buries_nobody(
    database: Database,
) -> None:
    handle = erasure_handler(
        "journal", erase_two_marks_and_keep_finals, holds=frozenset({"marks", "lessons"})
    )
    with database.transaction() as session:
        handle(session, erasure_request_event())  # asks for marks, not for lessons
    with database.transaction() as session:
        assert not tombstones.is_erased(
            session, "school-254", "b9604152-fa90-5f7b-8dbe-8739744fa448"
        )
        assert len(confirmations(session)) == 1


def test_a_request_covering_everything_a_participant_holds_buries_its_subjects(
    database: Database,
) -> None:
    holds = frozenset({"marks", "attendance", "final_marks"})  # final marks: retained
    handle = erasure_handler("journal", erase_two_marks_and_keep_finals, holds=holds)
    with database.transaction() as session:
        handle(session, erasure_request_event())
    with database.transaction() as session:
        assert tombstones.is_erased(session, "school-254", "b9604152-fa90-5f7b-8dbe-8739744fa448")


def test_a_staff_subject_is_neither_erased_nor_buried_and_the_completion_says_so(
    database: Database,
) -> None:
    staff_id = "6f1c3b8e-2d1a-4f0e-9a53-0c7b8e6d2f11"
    event = erasure_request_event()
    event.data["subjects"].append({"subject_id": staff_id, "kind": "staff"})
    seen: list[list[str]] = []

    def erase(_session: Session, request: ErasureRequest) -> ErasureOutcome:
        seen.append(request.subject_ids)
        return ErasureOutcome()

    with database.transaction() as session:
        erasure_handler("journal", erase)(session, event)
    with database.transaction() as session:
        assert not tombstones.is_erased(session, "school-254", staff_id)
        assert tombstones.is_erased(session, "school-254", "b9604152-fa90-5f7b-8dbe-8739744fa448")
        [confirmation] = confirmations(session)
    default_contracts().validate(confirmation)
    assert staff_id not in seen[0]
    assert confirmation["data"]["counts"] == {"refused_subjects": 1}


def test_a_subject_the_participant_refuses_is_not_buried(database: Database) -> None:
    def refuse_the_guardian(_session: Session, request: ErasureRequest) -> ErasureOutcome:
        outcome = ErasureOutcome()
        outcome.refuse(request.ids_of("guardian"))
        return outcome

    event = erasure_request_event()
    with database.transaction() as session:
        erasure_handler("identity", refuse_the_guardian)(session, event)
    guardians = [s["subject_id"] for s in event.data["subjects"] if s["kind"] == "guardian"]
    with database.transaction() as session:
        assert guardians
        assert not tombstones.is_erased(session, "school-254", *guardians)
        [confirmation] = confirmations(session)
    assert confirmation["data"]["counts"] == {"refused_subjects": len(guardians)}


def test_subjects_are_buried_in_the_erasures_school_only(database: Database) -> None:
    with database.transaction() as session:
        erasure_handler("journal", erase_two_marks_and_keep_finals)(
            session, erasure_request_event()
        )
    with database.transaction() as session:
        assert not tombstones.is_erased(
            session, "school-other", "b9604152-fa90-5f7b-8dbe-8739744fa448"
        )


def test_an_erasure_drops_the_unsent_events_about_its_subjects_in_its_school_only(
    database: Database,
) -> None:
    event = erasure_request_event()
    student = "b9604152-fa90-5f7b-8dbe-8739744fa448"
    classmate = "5c0f3a52-8a8e-4c57-9a3b-3f1d2b6c7e90"
    about_her = Event("diary.acknowledged", {"student_id": student}, "school-254")
    with_others = Event("diary.acknowledged", {"student_ids": [student, classmate]}, "school-254")
    elsewhere = Event("diary.acknowledged", {"student_id": student}, "school-other")
    revoked = Event("identity.session.revoked", {"user_id": student}, "school-254", subject=student)
    rows = [about_her, with_others, elsewhere, revoked]
    with database.transaction() as session:
        session.execute(
            insert(outbox),
            [
                {"event_id": e.id, "event_type": e.type, "body": json.dumps(e.to_dict())}
                for e in rows
            ],
        )
        erasure_handler("journal", erase_two_marks_and_keep_finals)(session, event)
    with database.transaction() as session:
        left = set(session.execute(select(outbox.c.event_id)).scalars())
        [confirmation] = [
            body for body in confirmations(session) if body["type"] == "journal.erasure.completed"
        ]
    # Hers goes; one that also lists a classmate, another school's, and the deny-list's stay.
    assert left == {with_others.id, elsewhere.id, revoked.id, confirmation["id"]}
