"""bench/diary: the diary's week view and its freshness, measured in one run.

1. A 1,000-student school (40 classes, a term of lessons, marks and attendance, every
   student covered by a guardian's agreement) is generated as contract events (school.py,
   our own generator until the journal's exists) and applied by the diary's own handlers
   into a fresh PostgreSQL database.
2. The diary web app runs under gunicorn exactly as deployed (schoolkit.gunicorn_conf,
   2 workers x 4 threads); so does the local gateway (schoolkit.gateway) in front of it.
   Closed-loop clients measure the throughput of the week view with guardians' tokens and
   of a minimal JSON endpoint (/healthz) of the same app: their ratio (target >= 0.4),
   direct and through the gateway.
3. Open-loop clients send week requests at 80% of the measured week throughput; latency
   is taken from each request's scheduled start (no coordinated omission): p50/p99
   (target p99 < 50 ms).
4. The real diary worker consumes journal.mark.recorded from RabbitMQ; marks are
   published at a steady 100/s and the time from publish to the mark being visible to
   the API (committed in the diary database, which the API reads without any cache) is
   measured: p50/p99 (target p99 < 200 ms).

Run: `.venv/bin/python bench/diary/run.py` (options: --weeks, --seconds).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pika
from sqlalchemy import select, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from school import GeneratedSchool, generate  # noqa: E402

from diary.handlers import HANDLERS  # noqa: E402
from diary.models import Mark  # noqa: E402
from schoolkit.db import Database  # noqa: E402
from schoolkit.gateway import gunicorn_argv  # noqa: E402
from schoolkit.migrate import upgrade  # noqa: E402
from schoolkit.testing import (  # noqa: E402
    AMQP_URL,
    Bus,
    TokenIssuer,
    create_database,
    drop_database,
    free_port,
    require_postgres,
    require_rabbitmq,
    wait_until_answering,
)
from schoolkit.topology import BusNames, declare_exchanges  # noqa: E402

BIN = Path(sys.executable).parent
CLIENTS = 4
Request = tuple[str, dict[str, str]]


# --- 1. the school ------------------------------------------------------------------------


def seed(database: Database, weeks: int) -> tuple[GeneratedSchool, int, float]:
    school, events = generate(weeks=weeks)
    started, applied = time.perf_counter(), 0
    batch: list = []
    for event in events:
        batch.append(event)
        if len(batch) == 500:
            applied += _apply(database, batch)
            batch = []
    applied += _apply(database, batch)
    # A live database has autovacuum's statistics; a freshly filled one needs them now.
    with database.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    return school, applied, time.perf_counter() - started


def _apply(database: Database, events: list) -> int:
    with database.transaction() as session:
        for event in events:
            HANDLERS[event.type](session, event)
    return len(events)


# --- 2. the processes ---------------------------------------------------------------------


def start_web(
    database_url: str, issuer: TokenIssuer, body_cache: int
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    environment = {
        **os.environ,
        "DIARY_BODY_CACHE": str(body_cache),
        "DIARY_DATABASE_URL": database_url,
        "IDENTITY_JWKS_URL": issuer.jwks_url,
        "TOKEN_ISSUER": issuer.issuer,
        "BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(BIN / "gunicorn"),
        "-c",
        "python:schoolkit.gunicorn_conf",
        "diary.app:create_app()",
    ]
    return subprocess.Popen(command, env=environment), port


def start_gateway(diary_port: int) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="bench-diary-root-"))
    (root / "deploy").mkdir()
    (root / "deploy" / "services.toml").write_text(
        f'[gateway]\nport = {port}\n\n[services.diary]\nweb_port = {diary_port}\nroutes = ["/api/diary/"]\n'
    )
    environment = {**os.environ, "SCHOOL_ROOT": str(root), "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(gunicorn_argv(port), env=environment), port, root


# --- 3. the load --------------------------------------------------------------------------


def week_requests(school: GeneratedSchool, issuer: TokenIssuer, count: int = 200) -> list[Request]:
    rng = random.Random(6)
    requests = []
    for pupil in rng.sample(school.pupils, count):
        token = issuer.issue(
            sub=pupil.guardian_id,
            roles=["guardian"],
            school_id=school.events.school_id,
            exp=int(time.time()) + 3600,
        )
        week = school.term_starts + timedelta(weeks=rng.randrange(school.weeks))
        path = f"/api/diary/v1/students/{pupil.student_id}/week?date={week}"
        requests.append((path, {"Authorization": f"Bearer {token}"}))
    return requests


def _closed_loop(arguments: tuple[int, list[Request], float]) -> tuple[int, dict[int, int]]:
    port, requests, seconds = arguments
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done, failed = 0, Counter[int]()
    deadline = time.perf_counter() + seconds
    index = random.randrange(len(requests))
    while time.perf_counter() < deadline:
        path, headers = requests[index % len(requests)]
        index += 1
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            done += 1
        else:
            failed[response.status] += 1
    return done, dict(failed)


def throughput(
    pool: multiprocessing.pool.Pool,
    port: int,
    requests: list[Request],
    seconds: float,
    *,
    warm_up: bool = False,
) -> float:
    results = pool.map(_closed_loop, [(port, requests, seconds)] * CLIENTS)
    done = sum(r[0] for r in results)
    failed = sum((Counter(r[1]) for r in results), Counter[int]())
    # While warming up, the first requests of each worker wait for identity's keys (503).
    if failed and not warm_up:
        print(f"    (not counted: answers other than 200 by status: {dict(failed)})")
    return done / seconds


def _open_loop(arguments: tuple[int, list[Request], float, float, float]) -> list[float]:
    port, requests, rate, seconds, offset = arguments
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    interval = 1.0 / rate
    started = time.perf_counter() + offset
    latencies = []
    for number in range(int(seconds * rate)):
        scheduled = started + number * interval
        pause = scheduled - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        path, headers = requests[number % len(requests)]
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - scheduled)
    return latencies


def latency_at(
    pool: multiprocessing.pool.Pool, port: int, requests: list[Request], rate: float, seconds: float
) -> list[float]:
    per_client = rate / CLIENTS
    jobs = [(port, requests[i::CLIENTS], per_client, seconds, i / rate) for i in range(CLIENTS)]
    return sorted(latency for part in pool.map(_open_loop, jobs) for latency in part)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- 4. freshness -------------------------------------------------------------------------


def freshness(
    bus: Bus, database_url: str, school: GeneratedSchool, rate: float, seconds: float
) -> list[float]:
    worker = subprocess.Popen(
        [str(BIN / "diary-worker")],
        env={**bus.environment("diary", database_url), "LOG_LEVEL": "WARNING"},
    )
    database = Database(database_url)
    try:
        queue = BusNames(bus.namespace, "diary").queue("journal.mark.recorded")
        deadline = time.monotonic() + 60
        while not bus.is_consuming(queue):
            if time.monotonic() > deadline:
                raise TimeoutError("the diary worker never declared its queues")
            time.sleep(0.2)
        time.sleep(1.0)  # let every binding settle
        rng = random.Random(100)
        marks = [
            school.events.mark(
                rng.choice(school.pupils).student_id, rng.choice(school.lessons[-2000:]), 5
            )
            for _ in range(int(rate * seconds))
        ]
        return _publish_and_watch(bus, database, marks, rate)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        database.dispose()


def _publish_and_watch(bus: Bus, database: Database, marks: list, rate: float) -> list[float]:
    published: dict[str, float] = {}
    seen: dict[str, float] = {}
    lock = threading.Lock()
    finished = threading.Event()

    def watch() -> None:
        with database.engine.connect() as connection:
            while not finished.is_set() or len(seen) < len(published):
                with lock:
                    pending = [m for m in published if m not in seen]
                if pending:
                    rows = (
                        connection.execute(select(Mark.mark_id).where(Mark.mark_id.in_(pending)))
                        .scalars()
                        .all()
                    )
                    now = time.perf_counter()
                    connection.rollback()
                    for mark_id in rows:
                        seen[mark_id] = now
                time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    channel = pika.BlockingConnection(pika.URLParameters(bus.amqp_url)).channel()
    declare_exchanges(channel, bus.namespace)
    channel.confirm_delivery()
    started = time.perf_counter()
    for number, event in enumerate(marks):
        pause = started + number / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        properties = pika.BasicProperties(
            message_id=event.id, type=event.type, content_type="application/json", delivery_mode=2
        )
        sent = time.perf_counter()
        channel.basic_publish(
            f"{bus.namespace}.events", event.type, event.to_json().encode(), properties=properties
        )
        with lock:
            published[event.data["mark_id"]] = sent
    channel.connection.close()
    finished.set()
    watcher.join(timeout=60)
    return sorted(seen[m] - published[m] for m in published if m in seen)


# --- the run ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weeks", type=int, default=9, help="weeks of lessons and marks (a quarter)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    args = parser.parse_args()
    require_postgres()
    require_rabbitmq()
    database_url = create_database("bench_diary")
    issuer = TokenIssuer()
    bus = Bus(namespace=f"bench-{uuid.uuid4().hex[:8]}", amqp_url=AMQP_URL)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        upgrade("diary", database_url)
        database = Database(database_url)
        school, applied, seeding = seed(database, args.weeks)
        database.dispose()
        print(
            f"diary benchmark, {os.cpu_count()} cores (shared), PostgreSQL, RabbitMQ quorum queues"
        )
        print(
            f"school: {len(school.pupils)} students, 40 classes, {args.weeks} weeks, "
            f"{len(school.lessons)} lessons; {applied} events applied by the diary's handlers "
            f"in {seeding:.0f} s ({applied / seeding:.0f} events/s)"
        )
        cold, cold_port = start_web(database_url, issuer, body_cache=0)
        web, web_port = start_web(database_url, issuer, body_cache=1024)
        processes += [cold, web]
        gateway, gateway_port, _ = start_gateway(web_port)
        processes.append(gateway)
        for port in (cold_port, web_port):
            wait_until_answering(port)
        wait_until_answering(gateway_port, "/api/diary/healthz")
        requests = week_requests(school, issuer)
        minimal = [("/api/diary/healthz", {})]
        setups = (
            ("direct, no body cache", cold_port),
            ("direct, body cache", web_port),
            ("via gateway, body cache", gateway_port),
        )
        seconds = args.seconds
        with multiprocessing.Pool(CLIENTS) as pool:
            for _, port in setups:  # warm-up: identity's keys fetched, pools filled
                throughput(pool, port, requests, 4.0, warm_up=True)
            print(
                f"throughput, closed loop, {CLIENTS} clients x {seconds:.0f} s, "
                "gunicorn 2 workers x 4 threads, 200 guardians' weeks:"
            )
            week_rates = {}
            for name, port in setups:
                base = throughput(pool, port, minimal, seconds)
                week = week_rates[name] = throughput(pool, port, requests, seconds)
                print(
                    f"  {name:24} minimal JSON {base:6.0f} req/s   week view {week:6.0f} req/s   "
                    f"ratio {week / base:.2f} (target >= 0.4)"
                )
            for name, port in setups:
                rate = 0.8 * week_rates[name]
                latencies = latency_at(pool, port, requests, rate, seconds)
                print(
                    f"latency {name:24} at 80% ({rate:4.0f} req/s, open loop): "
                    f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms   "
                    f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms (target < 50 ms)"
                )
        delays = freshness(bus, database_url, school, 100.0, args.seconds)
        print(
            f"freshness: {len(delays)} marks at 100/s, bus publish -> visible to the diary API: "
            f"p50 {percentile(delays, 0.5) * 1000:.1f} ms   p99 {percentile(delays, 0.99) * 1000:.1f} ms (target < 200 ms)"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        issuer.close()
        bus.services.add("diary")
        bus.clean_up()
        drop_database(database_url)


if __name__ == "__main__":
    main()
