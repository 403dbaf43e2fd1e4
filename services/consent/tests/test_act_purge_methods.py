"""The act says, per system, what was done to its database files (audit issue 14 item 3)."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask.testing import FlaskClient
from pypdf import PdfReader

from consent.purges import NOT_YET, record_purge
from schoolkit.db import Database
from schoolkit.events import Event

from .conftest import API, SCHOOL
from .families import World
from .test_erasure_status_and_act import an_open_erasure, confirm_all

Headers = Callable[..., dict[str, str]]
JOURNAL_METHOD = (
    "PostgreSQL: таблицы, затронутые уничтожением, переписаны VACUUM FULL: marks, outbox; "
    "WAL: CHECKPOINT, 6 переключений сегмента (pg_switch_wal)"
)


def purged(erasure_id: str, participant: str, method: str, store: str = "postgresql") -> Event:
    data = {
        "erasure_id": erasure_id,
        "participant": participant,
        "store": store,
        "method": method,
        "tables": ["marks", "outbox"] if store == "postgresql" else [],
        "purged_at": "2025-11-15T00:10:00.000Z",
    }
    return Event(f"{participant}.erasure.purged", data, SCHOOL)


def test_until_a_system_reports_its_purge_the_act_says_it_is_not_yet_confirmed(
    client: FlaskClient, as_role: Headers, database_url: str, world: World
) -> None:
    erasure_id = an_open_erasure(client, as_role, world)
    confirm_all(database_url, erasure_id)
    database = Database(database_url)
    with database.transaction() as session:
        assert record_purge(session, purged(erasure_id, "journal", JOURNAL_METHOD)) is None
        record_purge(session, purged(erasure_id, "diary", "SQLite: WAL усечён", store="sqlite"))
    database.dispose()

    act = client.get(f"{API}/erasures/{erasure_id}/act.json", headers=as_role("director")).json

    methods = {system["participant"]: system["method"] for system in act["systems"]}
    assert methods["journal"] == JOURNAL_METHOD
    assert methods["diary"] == "SQLite: WAL усечён"
    assert methods["identity"] == NOT_YET
    assert [entry["what"] for entry in act["log"]].count("purged") == 2
    pdf = client.get(f"{API}/erasures/{erasure_id}/act.pdf", headers=as_role("director"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "VACUUM FULL" in " ".join(text.split())


def test_a_purge_of_an_unknown_erasure_is_ignored(database_url: str, client: FlaskClient) -> None:
    database = Database(database_url)
    with database.transaction() as session:
        unknown = purged("0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", "journal", JOURNAL_METHOD)
        assert record_purge(session, unknown) == "ignored"
    database.dispose()
