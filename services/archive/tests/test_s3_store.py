"""The S3-compatible store (issue 18 §1): every verified set is mirrored to a bucket, a
restore fetches a set the lost disk no longer has, and pruning removes it from both.
Against moto's S3 server on loopback."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto.server import ThreadedMotoServer

from archive.dbbackups import Source, back_up, restore
from archive.models import Base
from archive.retention import Rotation, rotate
from archive.s3 import S3Mirror
from archive.store import DirectoryStore
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.tables import kit_metadata
from schoolkit.testing import free_port

MASTER = b"s" * 32


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Mirror]:
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(variable, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}")
        # moto keeps its buckets per process: each test its own.
        bucket = f"school-backups-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        yield S3Mirror(bucket, client)
    finally:
        server.stop()


def catalogue(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'catalogue.db'}")
    Base.metadata.create_all(database.engine)
    kit_metadata.create_all(database.engine)
    return database


def test_a_set_is_mirrored_and_restored_from_the_bucket_when_the_disk_is_lost(
    tmp_path: Path, mirror: S3Mirror
) -> None:
    url = f"sqlite:///{tmp_path / 'notify.db'}"
    upgrade("notify", url)
    store = DirectoryStore(tmp_path / "disk", mirror)
    with catalogue(tmp_path).transaction() as session:
        made = back_up(session, Source("notify", url), store, MASTER)
        assert made.status == "completed", made.failure
    assert mirror.set_ids("notify") == [made.id]

    shutil.rmtree(tmp_path / "disk")  # the external disk is lost
    (tmp_path / "notify.db").unlink()  # and so is the database
    report = restore("notify", url, store, MASTER)

    assert report.set_id == made.id
    assert (tmp_path / "notify.db").stat().st_size > 0


def test_a_set_whose_upload_was_cut_short_is_never_read(tmp_path: Path, mirror: S3Mirror) -> None:
    mirror.client.put_object(
        Bucket=mirror.bucket,
        Key="school-backups/notify/20261207T000000000000Z-aa/data.zst.gcm",
        Body=b"x",
    )
    assert mirror.set_ids("notify") == []


def test_pruning_removes_a_set_from_the_bucket_too(tmp_path: Path, mirror: S3Mirror) -> None:
    url = f"sqlite:///{tmp_path / 'notify.db'}"
    upgrade("notify", url)
    store = DirectoryStore(tmp_path / "disk", mirror)
    database = catalogue(tmp_path)
    for _ in range(2):
        with database.transaction() as session:
            back_up(session, Source("notify", url), store, MASTER)
    with database.transaction() as session:
        pruned = rotate(session, store, "notify", Rotation(1, 0, 0), ZoneInfo("Europe/Moscow"))
    assert len(pruned) == 1
    assert len(mirror.set_ids("notify")) == 1 and len(store.sets("notify")) == 1
