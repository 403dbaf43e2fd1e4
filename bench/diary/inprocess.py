"""bench/diary/inprocess.py: the diary's costs measured inside one process.

Far less sensitive to the machine's other load than run.py: it counts the SQL statements
that reach PostgreSQL (a `before_cursor_execute` listener) and times N requests through
Flask's test client, and N mark events through the kit's consumer path (inbox, tombstones,
handler, one transaction per batch, as the worker applies them).

    .venv/bin/python bench/diary/inprocess.py [--weeks 2] [--requests 400] [--keep URL]

`--keep URL` reuses an already seeded database (printed by a first run with --no-drop).
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import seed  # noqa: E402
from school import GeneratedSchool  # noqa: E402

from diary.app import create_app  # noqa: E402
from diary.handlers import HANDLERS  # noqa: E402
from diary.testing import SchoolEvents  # noqa: E402
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
def counting(database: Database) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    # Pre-ping goes round the cursor events: count the pool's checkouts separately.
    event.listen(database.engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(database.engine, "before_cursor_execute", counter)


def measure(
    label: str, database: Database, count: int, call: Callable[[int], None], warm_up: int = 50
) -> None:
    """Calls `call` with numbers 0.. `warm_up` + `count`; only the last `count` are measured."""
    for number in range(warm_up):  # keys fetched, pool filled, statements and bodies cached
        call(number)
    checkouts = StatementCounter()
    event.listen(database.engine, "checkout", checkouts)
    try:
        with counting(database) as statements:
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


def web_figures(url: str, school: GeneratedSchool, requests: int) -> None:
    issuer = TokenIssuer()
    try:
        settings = Settings.from_env(
            "diary", database_url=url, log_level="WARNING", **issuer.settings_overrides()
        )
        rng = random.Random(6)
        pupils = rng.sample(school.pupils, 200)
        weeks = [school.term_starts + timedelta(weeks=rng.randrange(school.weeks)) for _ in pupils]
        headers = [
            issuer.bearer(sub=p.guardian_id, roles=["guardian"], school_id=school.events.school_id)
            for p in pupils
        ]
        paths = [
            f"/api/diary/v1/students/{p.student_id}/week?date={w}"
            for p, w in zip(pupils, weeks, strict=True)
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


def worker_figures(url: str, school: GeneratedSchool, marks: int) -> None:
    settings = Settings.from_env("diary", database_url=url)
    database = Database(url)
    consumer = Consumer(settings, database, HANDLERS, load_contracts(settings.contracts_dir))
    rng = random.Random(100)
    events = [
        school.events.mark(rng.choice(school.pupils).student_id, rng.choice(school.lessons), 5)
        for _ in range(marks + 100 + 50)
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
    """Where the generated school of a kept database is pickled (ids are random)."""
    return Path(tempfile.gettempdir()) / f"{url.rsplit('/', 1)[1]}.school.pickle"


def _save_school(url: str, school: GeneratedSchool) -> None:
    events = school.events
    kept = (events.school_id, events.year_id, events.period_id, school.term_starts, school.weeks)
    _school_file(url).write_bytes(pickle.dumps((kept, school.pupils, school.lessons)))


def _load_school(url: str) -> GeneratedSchool:
    # Our own file, written by a run with --no-drop on this machine.
    kept, pupils, lessons = pickle.loads(_school_file(url).read_bytes())  # noqa: S301
    school_id, year_id, period_id, term_starts, weeks = kept
    events = SchoolEvents(school_id=school_id, year_id=year_id, period_id=period_id)
    return GeneratedSchool(events, term_starts, weeks, pupils, lessons)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=2)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--marks", type=int, default=200)
    parser.add_argument("--keep", help="a seeded database's URL to reuse")
    parser.add_argument("--no-drop", action="store_true", help="keep the database for --keep")
    args = parser.parse_args()
    url = args.keep or create_database("inprocess_diary")
    try:
        if args.keep:
            school = _load_school(url)
        else:
            upgrade("diary", url)
            database = Database(url)
            school, applied, seconds = seed(database, args.weeks)
            database.dispose()
            _save_school(url, school)
            print(f"seeded {applied} events in {seconds:.0f} s into {url}")
        database = Database(url)
        with database.engine.connect() as connection:
            marks = connection.execute(text("SELECT count(*) FROM marks")).scalar()
        database.dispose()
        print(f"{len(school.pupils)} students, {args.weeks} weeks, {marks} marks stored")
        web_figures(url, school, args.requests)
        worker_figures(url, school, args.marks)
    finally:
        if not args.keep and not args.no_drop:
            drop_database(url)


if __name__ == "__main__":
    main()
