"""Freshness: a mark recorded in the journal, until the diary has it.

Teachers record marks through the journal's API (POST /api/journal/v1/marks under
gunicorn as deployed, each with the lesson's own teacher's token): teaching load, lock,
scale, the audit chain and the outbox row, committed together. The journal's real
worker relays the outbox to RabbitMQ; the diary's real worker consumes
journal.mark.recorded with the diary's handlers and commits the mark, after which every
reader (the API reads the database without any cache) sees it. Each mark's delay runs
from the journal's answer (its commit is done by then) to the diary's commit, which the
diary worker notes (stamped.py) instead of the bench polling its database.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from year import DiaryYear

from schoolkit.testing import Bus, TokenIssuer, free_port, wait_until_answering
from schoolkit.topology import BusNames

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
# Connections to the journal: enough that a slow answer does not hold up the steady rate.
SENDERS = 8
Post = tuple[str, dict[str, str], bytes]  # path, headers, body


@dataclass
class Recorded:
    """When each mark was sent to the journal and answered (wall clock, as the stamps)."""

    sent: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rate(self) -> float:
        return len(self.sent) / (max(self.sent.values()) - min(self.sent.values()))


@dataclass
class Pipeline:
    """The journal's web app and worker, and the diary's worker, on one bus."""

    processes: list[subprocess.Popen[bytes]]
    port: int
    stamps_file: Path

    def stop(self) -> dict[str, float]:
        """Stops them; the diary's commit time of each mark it applied."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)
        if not self.stamps_file.exists():
            return {}
        stamps = json.loads(self.stamps_file.read_text())
        self.stamps_file.unlink()
        return stamps


def start(bus: Bus, issuer: TokenIssuer, journal_url: str, diary_url: str) -> Pipeline:
    port = free_port()
    web_environment = {
        **os.environ,
        "JOURNAL_DATABASE_URL": journal_url,
        "IDENTITY_JWKS_URL": issuer.jwks_url,
        "TOKEN_ISSUER": issuer.issuer,
        "BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    web = [
        str(BIN / "gunicorn"),
        "-c",
        "python:schoolkit.gunicorn_conf",
        "journal.app:create_app()",
    ]
    stamps_file = Path(f"/tmp/bench-diary-{bus.namespace}.json")
    pipeline = Pipeline([subprocess.Popen(web, env=web_environment)], port, stamps_file)
    pipeline.processes.append(
        bus.spawn_worker("journal", journal_url, "journal.handlers:HANDLERS", HERE)
    )
    pipeline.processes.append(
        bus.spawn_worker(
            "diary", diary_url, "stamped:HANDLERS", HERE, BENCH_STAMPS_FILE=str(stamps_file)
        )
    )
    try:
        wait_until_answering(port)
        _wait_for_consumers(bus)
    except BaseException:
        pipeline.stop()
        raise
    return pipeline


def _wait_for_consumers(bus: Bus) -> None:
    """Both workers consume, so each has declared and bound its queues: the marks the
    journal relays from now on reach the diary's queue."""
    queues = (
        BusNames(bus.namespace, "diary").queue("journal.mark.recorded"),
        BusNames(bus.namespace, "journal").queue("consent.erasure.requested"),
    )
    deadline = time.monotonic() + 120
    while not all(bus.is_consuming(queue) for queue in queues):
        if time.monotonic() > deadline:
            raise TimeoutError("the workers never declared their queues")
        time.sleep(0.2)


def mark_posts(year: DiaryYear, journal_url: str, issuer: TokenIssuer, count: int) -> list[Post]:
    """Marks in the open quarter's lessons of the diary's window, each by the lesson's own
    teacher, for a student of the lesson's class."""
    engine = create_engine(journal_url)
    with engine.connect() as connection:
        lessons = connection.execute(
            text(
                "SELECT lesson_id, class_id, teacher_id FROM lessons WHERE period_id = :period "
                "AND date BETWEEN :first_day AND :last_day ORDER BY lesson_id"
            ),
            {"period": year.open_period_id, **year.window.bounds},
        ).all()
    engine.dispose()
    journal, rng = year.journal, random.Random(100)
    tokens: dict[str, dict[str, str]] = {}
    posts = []
    for _ in range(count):
        lesson_id, class_id, teacher_id = rng.choice(lessons)
        if teacher_id not in tokens:
            tokens[teacher_id] = _teacher(issuer, year.school_id, teacher_id)
        body = {
            "lesson_id": lesson_id,
            "student_id": rng.choice(journal.students_by_class[class_id]),
            "work_type_id": journal.work_type_ids["answer"],
            "value": str(rng.randint(2, 5)),
        }
        posts.append(("/api/journal/v1/marks", tokens[teacher_id], json.dumps(body).encode()))
    return posts


def _teacher(issuer: TokenIssuer, school_id: str, teacher_id: str) -> dict[str, str]:
    token = issuer.issue(
        sub=teacher_id, roles=["subject_teacher"], school_id=school_id, exp=int(time.time()) + 3600
    )
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def record(port: int, posts: list[Post], rate: float) -> Recorded:
    """Send the marks at a steady `rate`: open loop, spread over SENDERS connections."""
    recorded = Recorded()
    started = time.perf_counter() + 0.1
    senders = [
        threading.Thread(
            target=_send,
            args=(port, posts[n::SENDERS], rate / SENDERS, started + n / rate, recorded),
        )
        for n in range(SENDERS)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return recorded


def _send(port: int, posts: list[Post], rate: float, started: float, recorded: Recorded) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for number, (path, headers, body) in enumerate(posts):
        pause = started + number / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        sent = time.time()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        answered = time.time()
        with recorded.lock:
            if response.status == 201:
                mark_id = json.loads(answer)["mark_id"]
                recorded.sent[mark_id], recorded.answered[mark_id] = sent, answered
            else:
                recorded.refused += 1
    connection.close()


def diary_marks(diary_url: str) -> int:
    engine = create_engine(diary_url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM marks")).scalar_one()
    engine.dispose()
    return count


def wait_for_diary(diary_url: str, marks: int, timeout: float = 60.0) -> None:
    """Until the diary holds `marks` marks, or `timeout` has passed."""
    deadline = time.monotonic() + timeout
    while diary_marks(diary_url) < marks and time.monotonic() < deadline:
        time.sleep(0.5)
