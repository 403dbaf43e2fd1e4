"""Sealed records and the key store name nobody (issue 18 §3): migration 0006 files the
keys and records written before it under references, re-sealed, still readable."""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from alembic import command
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archive.keys import KeyStore, seal
from archive.records import read_records
from schoolkit.db import Database
from schoolkit.migrate import alembic_config, upgrade

MASTER = b"n" * 32


def test_records_written_before_the_references_are_re_filed_and_still_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_MASTER_KEY", base64.b64encode(MASTER).decode())
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    command.upgrade(alembic_config("archive", url), "0005")
    anna, record_id = str(uuid.uuid4()), str(uuid.uuid4())
    data_key = AESGCM.generate_key(bit_length=256)
    envelope = {"type": "journal.mark.recorded", "time": "2026-12-01T09:00:00.000Z"}
    with sqlite3.connect(tmp_path / "archive.db") as connection:  # as 0005 wrote them
        connection.execute(
            "INSERT INTO subject_keys (key_id, school_id, wrapped_key) VALUES (?, ?, ?)",
            (anna, "school-18", seal(MASTER, data_key, anna.encode())),
        )
        sealed = seal(data_key, json.dumps(envelope).encode(), f"{record_id}|{anna}".encode())
        connection.execute(
            "INSERT INTO archived_records (id, event_id, school_id, event_type, source, key_id,"
            " sealed, occurred_at) VALUES (?, ?, 'school-18', 'journal.mark.recorded',"
            " 'journal', ?, ?, '2026-12-01T09:00:00.000Z')",
            (record_id, str(uuid.uuid4()), anna, sealed),
        )
    connection.close()

    upgrade("archive", url)

    raw = (tmp_path / "archive.db").read_bytes()
    assert anna.encode() not in raw and b"journal.mark.recorded" not in raw
    keys = KeyStore(MASTER)
    with Database(url).transaction() as session:
        assert read_records(session, keys, anna) == [envelope]
