"""bench/diary/inprocess.py: the diary's costs measured inside one process.

Far less sensitive to the machine's other load than run.py: it counts the SQL statements
that reach PostgreSQL (counted at the driver, psycopg's cursors) and times N requests through
Flask's test client, and N mark events through the kit's consumer path (inbox, tombstones,
handler, one transaction per batch, as the worker applies them).

    .venv/bin/python bench/diary/inprocess.py [--students 1000] [--weeks 1] [--keep URL]

The school is run.py's: journal.generator's year, its events applied by the diary's
handlers. `--keep URL` reuses an already seeded diary database (printed by a first run
with --no-drop, which keeps the journal's database beside it).
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import seed  # noqa: E402
from year import DiaryYear, marks_outside_window, study_mondays  # noqa: E402

from diary.app import create_app  # noqa: E402
from diary.handlers import HANDLERS  # noqa: E402
from schoolkit.consumer import Consumer, Delivery  # noqa: E402
from schoolkit.contracts import load_contracts  # noqa: E402
from schoolkit.db import Database  # noqa: E402
from schoolkit.migrate import upgrade  # noqa: E402
from schoolkit.settings import Settings  # noqa: E402
from schoolkit.testing import TokenIssuer, create_database, drop_database  # noqa: E402


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


@contextmanager
def counting() -> Iterator[StatementCounter]:
    """Statements as the driver sends them: SQLAlchemy's and the kit's HotRead's alike
    (the pool's ping goes round cursors: the checkouts are counted separately)."""
    counter = StatementCounter()
    execute = psycopg.Cursor.execute

    def counted(cursor: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
        counter()
        return execute(cursor, *args, **kwargs)

    psycopg.Cursor.execute = counted  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]


def measure(
    label: str, database: Database, count: int, call: Callable[[int], None], warm_up: int = 50
) -> None:
    """Calls `call` with numbers 0.. `warm_up` + `count`; only the last `count` are measured."""
    for number in range(warm_up):  # keys fetched, pool filled, statements and bodies cached
        call(number)
    checkouts = StatementCounter()
    event.listen(database.engine, "checkout", checkouts)
    try:
        with counting() as statements:
            started = time.perf_counter()
            for number in range(warm_up, warm_up + count):
                call(number)
            seconds = time.perf_counter() - started
    finally:
        event.remove(database.engine, "checkout", checkouts)
    print(
        f"  {label:44} {seconds / count * 1000:7.3f} ms   "
        f"{statements.count / count:5.2f} statements   {checkouts.count / count:4.2f} checkouts"
    )


def web_figures(url: str, year: DiaryYear, mondays: list[Any], requests: int) -> None:
    issuer = TokenIssuer()
    try:
        settings = Settings.from_env(
            "diary", database_url=url, log_level="WARNING", **issuer.settings_overrides()
        )
        rng = random.Random(6)
        families = rng.sample(year.families, min(200, len(year.families)))
        headers = [
            issuer.bearer(sub=f.guardian_id, roles=["guardian"], school_id=year.school_id)
            for f in families
        ]
        paths = [
            f"/api/diary/v1/students/{f.student_id}/week?date={rng.choice(mondays)}"
            for f in families
        ]
        for cache in (0, 1024):
            app = create_app(settings)
            app.extensions["diary_bodies"].entries = cache
            database = app.extensions["schoolkit"].database
            client = app.test_client()

            def week(number: int, client: Any = client) -> None:
                index = number % len(paths)
                response = client.get(paths[index], headers=headers[index])
                assert response.status_code == 200, response.status_code

            def healthz(_number: int, client: Any = client) -> None:
                assert client.get("/api/diary/healthz").status_code == 200

            measure(f"week view, body cache {cache}", database, requests, week, len(paths))
            if cache == 0:
                measure("/api/diary/healthz", database, requests, healthz)
            database.dispose()
    finally:
        issuer.close()


def worker_figures(url: str, journal_url: str, year: DiaryYear, marks: int) -> None:
    settings = Settings.from_env("diary", database_url=url)
    database = Database(url)
    consumer = Consumer(settings, database, HANDLERS, load_contracts(settings.contracts_dir))
    # The journal's marks under new ids, so that a kept database takes them again.
    events = [
        replace(mark, data={**mark.data, "mark_id": str(uuid.uuid4())})
        for mark in marks_outside_window(year, journal_url, marks + 100 + 50)
    ]
    fake = Delivery("bench", None, None, b"")  # type: ignore[arg-type]

    def one(number: int) -> None:
        outcome = consumer._apply_batch([(fake, events[number])])[0]
        assert outcome.result == "applied", outcome

    measure("mark event, batch of 1", database, marks, one)
    rest = events[marks + 50 :]

    def tenth(number: int) -> None:
        batch = rest[number * 10 : number * 10 + 10]
        outcomes = consumer._apply_batch([(fake, e) for e in batch])
        assert all(o.result == "applied" for o in outcomes), outcomes

    measure("mark events, batch of 10 (per batch)", database, 8, tenth, warm_up=2)
    database.dispose()


def _school_file(url: str) -> Path:
    """Where the year of a kept database is pickled, with its journal's URL."""
    return Path(tempfile.gettempdir()) / f"{url.rsplit('/', 1)[1]}.year.pickle"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=1)
    parser.add_argument("--seeders", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--marks", type=int, default=200)
    parser.add_argument("--keep", help="a seeded diary database's URL to reuse")
    parser.add_argument("--no-drop", action="store_true", help="keep the databases for --keep")
    args = parser.parse_args()
    if args.keep:
        # Our own file, written by a run with --no-drop on this machine.
        url, (journal_url, year) = args.keep, pickle.loads(_school_file(args.keep).read_bytes())  # noqa: S301
    else:
        url, journal_url = create_database("inprocess_diary"), create_database("inprocess_journal")
        upgrade("diary", url)
        seeded = seed(journal_url, url, args)
        year = seeded.year
        _school_file(url).write_bytes(pickle.dumps((journal_url, year)))
        print(f"seeded {seeded.events} events in {seeded.seconds:.0f} s into {url}")
    try:
        database = Database(url)
        with database.engine.connect() as connection:
            marks = connection.execute(text("SELECT count(*) FROM marks")).scalar()
        database.dispose()
        mondays = study_mondays(journal_url, year.window)
        print(
            f"{len(year.families)} students, weeks from {mondays[0]}: {len(mondays)}, {marks} marks"
        )
        web_figures(url, year, mondays, args.requests)
        worker_figures(url, journal_url, year, args.marks)
    finally:
        if not args.keep and not args.no_drop:
            drop_database(url)
            drop_database(journal_url)


if __name__ == "__main__":
    main()
