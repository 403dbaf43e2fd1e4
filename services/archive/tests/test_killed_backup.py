"""A backup killed half-way (issue 18, faults): no catalogue row, no set anything would
read, and the next run removes what it left and starts clean."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import func, select

from archive.dbbackups import Source, back_up, verify_set
from archive.models import BackupSet, Base
from archive.store import PARTIAL, DirectoryStore
from journal.generator import Size, generate
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.tables import kit_metadata

MASTER = b"m" * 32
BACKUP_IN_A_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from archive.dbbackups import Source, back_up
    from archive.store import DirectoryStore
    from schoolkit.db import Database

    catalogue, store, url = sys.argv[1:]
    with Database(catalogue).transaction() as session:
        back_up(session, Source("journal", url), DirectoryStore(Path(store)), b"m" * 32)
    """
)


def test_a_killed_backup_leaves_nothing_catalogued_and_the_next_run_starts_clean(
    tmp_path: Path, postgres_url: str
) -> None:
    upgrade("journal", postgres_url)
    generate(postgres_url, Size.for_students(100), seed=3)
    catalogue = Database(f"sqlite:///{tmp_path / 'catalogue.db'}")
    Base.metadata.create_all(catalogue.engine)
    kit_metadata.create_all(catalogue.engine)
    store = DirectoryStore(tmp_path / "disk")
    command = [
        sys.executable,
        "-c",
        BACKUP_IN_A_PROCESS,
        str(catalogue.engine.url),
        str(store.root),
        postgres_url,
    ]
    process = subprocess.Popen(command, start_new_session=True)
    _wait_for_data(store.root / "journal")
    os.killpg(process.pid, signal.SIGKILL)  # the worker and its pg_dump, at once
    process.wait()

    assert store.sets("journal") == []
    assert list((store.root / "journal").glob(f"{PARTIAL}*"))
    with catalogue.transaction() as session:
        assert session.scalar(select(func.count()).select_from(BackupSet)) == 0

    with catalogue.transaction() as session:
        assert (
            back_up(session, Source("journal", postgres_url), store, MASTER).status == "completed"
        )
    assert not list((store.root / "journal").glob(f"{PARTIAL}*"))
    [complete] = store.sets("journal")
    verify_set(complete, MASTER)


def _wait_for_data(folder: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data = list(folder.glob(f"{PARTIAL}*/data.zst.gcm"))
        if data and data[0].stat().st_size > 1 << 20:
            return
        time.sleep(0.02)
    raise AssertionError("the backup never started writing")
