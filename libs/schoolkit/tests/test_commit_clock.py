"""The benchmarks' commit clock: a time for what committed, nothing for what rolled back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from schoolkit.db import Database
from schoolkit.testing import CommitClock


def test_noted_keys_get_their_commit_time_and_rolled_back_ones_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'clock.db'}")
    clock = CommitClock()
    with database.transaction() as session:
        session.execute(text("SELECT 1"))
        clock.note(session, "committed")
    with database.sessions() as session:
        clock.note(session, "rolled back")
        session.rollback()

    stamps = tmp_path / "stamps.json"
    monkeypatch.setenv("BENCH_STAMPS_FILE", str(stamps))
    clock._dump()  # what the worker does when it ends

    assert list(json.loads(stamps.read_text())) == ["committed"]
    database.dispose()
