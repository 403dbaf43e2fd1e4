"""Erased means gone from the files too (audit issue 14 item 3, DESIGN §4.7).

A family with values found nowhere else (names, e-mail, phone, login, a comment on a mark,
a teacher's message) goes through the minimum school day with every service on
PostgreSQL, and again with every service on SQLite. Consent is revoked, the erasure
finishes, each worker's purge is forced (SIGUSR1; the schedule is off), and then the raw
bytes of every database file and of the WAL (PostgreSQL's pg_wal, SQLite's -wal) are read:
none may hold any of the values. The same scan finds every value before the erasure, which
proves it can see them (no value is long enough for PostgreSQL to compress).

Then the rest of what an auditor reads: the services' logs, the archive's backup taken
while the family was still there, every mail sent to anyone but the family, and the
broker's data directory once its WAL has rolled over (what deploy/rabbitmq/housekeeping.sh
does hourly), with the snapshot interval that deploy/rabbitmq/advanced.config sets.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pika
import pytest
import requests
from sqlalchemy import text

from schoolkit.db import Database
from schoolkit.testing import (
    Bus,
    Mailbox,
    files_holding,
    postgres_checkpoint,
    postgres_database_files,
    postgres_wal_files,
    sqlite_files,
)

from .stories import (
    SERVICES,
    a_class_with_a_mark,
    post,
    post_once_consent_knows_the_family,
    sign_in,
    start,
    wait_for,
)
from .system import System

CYRILLIC = "абвгдежзиклмнопр"  # one letter per hex digit: a name made unique


def unique_family_values() -> dict[str, str]:
    tag = uuid.uuid4().hex[:12]
    letters = "".join(CYRILLIC[int(digit, 16)] for digit in tag)
    return {
        "guardian_last_name": f"Остаткова{letters}",
        "guardian_first_name": f"Ольга{letters[::-1]}",
        "student_last_name": f"Остатков{letters}ин",
        "student_first_name": f"Илья{letters[:6]}ович{letters[6:]}",
        "email": f"guardian.{tag}@example.org",
        "phone": f"+7999{int(tag, 16) % 10**7:07d}",
        "login": f"login{tag[::-1]}",
        "comment": f"Хорошо отвечал у доски, {letters} — молодец",
        "message": f"Уважаемые родители, {letters[::-1]}: завтра контрольная",
    }


def backup_written(system: System, backup_id: str, admin: dict[str, str]) -> bool:
    path = f"/api/archive/v1/backups/{backup_id}"
    return requests.get(system.url(path), headers=admin, timeout=15).json()["status"] == "completed"


@pytest.mark.parametrize("store", ["postgresql", "sqlite"])
def test_after_an_erasure_and_its_purge_no_file_or_wal_holds_the_familys_values(
    broker_as_deployed: None, start_system: Callable[..., System], mailbox: Mailbox, store: str
) -> None:
    values = unique_family_values()
    system, admin = start(start_system, mailbox, store, {"PURGE_AT": "never"})
    consent = a_school_day_of_a_unique_family(system, admin, values)
    # The scan sees them: before the erasure every value is in the files as UTF-8 bytes.
    assert found(system, values) == set(values.values())
    if broker_files() is not None:
        assert broker_holds(values), "the broker's files must show the family's events first"
    backup = post(system, "/api/archive/v1/backups", {}, admin)  # one that holds the family
    wait_for(lambda: backup_written(system, backup["id"], admin), "the backup was not written")

    withdrawal = post(
        system,
        f"/api/consent/v1/consents/{consent}/withdrawal",
        {"received_at": "2026-11-27T18:30:00+00:00"},
        admin,
    )
    erasure_id = withdrawal["erasure_id"]
    wait_for(lambda: told(mailbox, values["email"], erasure_id), "not told", timeout=60)
    wait_for(lambda: notify_scrubbed_its_deliveries(system), "notify kept an address")
    for service in SERVICES:
        system.force_purge(service)
    act = wait_for(lambda: act_when_every_system_purged(system, erasure_id, admin), "no purge")

    assert found(system, values) == set(), held_where(system, values)
    expected = "VACUUM FULL" if store == "postgresql" else "wal_checkpoint(TRUNCATE)"
    assert all(expected in part["method"] for part in act["systems"]), act["systems"]

    assert files_holding(logs_and_backups(system), list(values.values())) == {}
    assert mails_to_others_holding(mailbox, values) == []
    if broker_files() is not None:
        assert broker_forgets(values), broker_holds(values)


def logs_and_backups(system: System) -> list[Path]:
    """Every file the processes wrote beside their databases: logs, backups, metrics."""
    return [path for path in system.workdir.rglob("*") if path.is_file()]


def mails_to_others_holding(mailbox: Mailbox, values: dict[str, str]) -> list[str]:
    """The notices in the guardian's own mailbox are theirs; nobody else got the values."""
    others = [mail for mail in mailbox.messages if mail["To"] != values["email"]]
    return [
        str(mail["To"])
        for mail in others
        if any(value in mail.as_string() for value in values.values())
    ]


def a_school_day_of_a_unique_family(
    system: System, admin: dict[str, str], values: dict[str, str]
) -> str:
    """The family is registered, consents, gets a commented mark and a teacher's message,
    both of which reach the diary; returns the consent's id."""
    guardian = post(
        system,
        "/api/identity/v1/people",
        {
            "kind": "guardian",
            "last_name": values["guardian_last_name"],
            "first_name": values["guardian_first_name"],
            "email": values["email"],
            "phone": values["phone"],
            "login": values["login"],
            "password": "Надёжный пароль 2025",
        },
        admin,
    )["id"]
    student = post(
        system,
        "/api/identity/v1/people",
        {
            "kind": "student",
            "last_name": values["student_last_name"],
            "first_name": values["student_first_name"],
            "birth_date": "2014-03-02",
        },
        admin,
    )["id"]
    post(
        system,
        "/api/identity/v1/guardianships",
        {"guardian_id": guardian, "student_id": student},
        admin,
    )
    consent = post_once_consent_knows_the_family(
        system,
        "/api/consent/v1/consents",
        {
            "guardian_id": guardian,
            "student_id": student,
            "representation": "parent",
            "decision": "given",
            "signed_on": "2025-09-01",
        },
        admin,
    )["id"]
    post(
        system,
        "/api/consent/v1/agreements",
        {"guardian_id": guardian, "student_id": student, "applied_on": "2025-09-02"},
        admin,
    )
    school = a_class_with_a_mark(system, admin, student, comment=values["comment"])
    post(
        system,
        f"/api/journal/v1/lessons/{school['lesson_id']}/messages",
        {"text": values["message"], "student_ids": [student]},
        school["teacher"],
    )
    guardian_signed_in = sign_in(system, values["login"], "Надёжный пароль 2025")
    wait_for(
        lambda: diary_shows(system, guardian_signed_in, student, values["comment"]),
        "the diary never showed the commented mark",
        timeout=60,
    )
    wait_for(lambda: diary_holds_message(system, values["message"]), "no message in the diary")
    return consent


def diary_shows(system: System, guardian: dict[str, str], student: str, comment: str) -> bool:
    answer = requests.get(
        system.url(f"/api/diary/v1/students/{student}/week?date=2025-09-15"),
        headers=guardian,
        timeout=10,
    )
    if answer.status_code != 200:
        return False
    lessons = [lesson for day in answer.json()["days"] for lesson in day["lessons"]]
    return any(mark.get("comment") == comment for lesson in lessons for mark in lesson["marks"])


def told(mailbox: Mailbox, address: str, erasure_id: str) -> bool:
    return any(erasure_id in mail.get_content() for mail in mailbox.to(address))


def diary_holds_message(system: System, message: str) -> bool:
    database = Database(system.running["diary"].database_url)
    try:
        with database.transaction() as session:
            found = session.execute(text("SELECT 1 FROM messages WHERE text = :t"), {"t": message})
            return found.first() is not None
    finally:
        database.dispose()


def notify_scrubbed_its_deliveries(system: System) -> bool:
    database = Database(system.running["notify"].database_url)
    try:
        with database.transaction() as session:
            return (
                session.execute(
                    text("SELECT count(*) FROM deliveries WHERE address IS NOT NULL")
                ).scalar_one()
                == 0
            )
    finally:
        database.dispose()


def act_when_every_system_purged(
    system: System, erasure_id: str, admin: dict[str, str]
) -> dict[str, Any] | None:
    answer = requests.get(
        system.url(f"/api/consent/v1/erasures/{erasure_id}/act.json"), headers=admin, timeout=10
    )
    if answer.status_code != 200:
        return None
    act = answer.json()
    return act if all(part.get("purged_at") for part in act["systems"]) else None


def files_of(system: System) -> list[Path]:
    if system.store == "sqlite":
        return [path for s in system.running.values() for path in sqlite_files(s.database_url)]
    postgres_checkpoint()  # what the server holds in memory reaches the files first
    databases = [postgres_database_files(s.database_url) for s in system.running.values()]
    return [path for files in databases for path in files] + postgres_wal_files()


def found(system: System, values: dict[str, str]) -> set[str]:
    held = files_holding(files_of(system), list(values.values()))
    return {value for values_held in held.values() for value in values_held}


def held_where(system: System, values: dict[str, str]) -> dict[str, list[str]]:
    return files_holding(files_of(system), list(values.values()))


# --- the broker -----------------------------------------------------------------------


def broker_files() -> list[Path] | None:
    """Every file of the local RabbitMQ node, or None when this machine cannot read them."""
    if shutil.which("rabbitmqctl") is None:
        return None
    done = subprocess.run(
        ["rabbitmqctl", "eval", "rabbit_mnesia:dir()."],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    directory = Path(done.stdout.strip().strip('"'))
    if done.returncode != 0 or not directory.is_dir():
        return None
    return [path for path in directory.rglob("*") if path.is_file()]


DEPLOYED_BROKER = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "advanced.config"


def deployed_snapshot_interval() -> int:
    setting = re.search(r"\{quorum_snapshot_interval,\s*(\d+)\}", DEPLOYED_BROKER.read_text())
    assert setting, f"{DEPLOYED_BROKER} sets no quorum_snapshot_interval"
    return int(setting.group(1))


def broker_setting(erlang: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", "eval", erlang],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def broker_as_deployed() -> Iterator[None]:
    """This machine's broker with the deployment's snapshot interval (for the queues
    declared from now on), as advanced.config sets it at boot; restored afterwards."""
    if broker_files() is None:
        yield
        return
    before = broker_setting("application:get_env(rabbit, quorum_snapshot_interval).")
    interval = deployed_snapshot_interval()
    broker_setting(f"application:set_env(rabbit, quorum_snapshot_interval, {interval}).")
    try:
        yield
    finally:
        if before == "undefined":
            broker_setting("application:unset_env(rabbit, quorum_snapshot_interval).")
        else:
            previous = before.removeprefix("{ok,").removesuffix("}")
            broker_setting(f"application:set_env(rabbit, quorum_snapshot_interval, {previous}).")


def broker_holds(values: dict[str, str]) -> dict[str, list[str]]:
    return files_holding(broker_files() or [], list(values.values()))


def broker_forgets(values: dict[str, str], timeout: float = 30.0) -> bool:
    """Roll the quorum queues' WAL over (what deployments do nightly, or what a small
    raft.wal_max_size_bytes does by volume); the consumed entries are not carried into
    the queues' segments, and the old WAL file is deleted."""
    subprocess.run(
        ["rabbitmqctl", "eval", "ra_log_wal:force_roll_over(ra_log_wal)."],
        capture_output=True,
        timeout=60,
        check=True,
    )
    deadline = time.monotonic() + timeout
    while broker_holds(values):
        if time.monotonic() > deadline:
            return False
        time.sleep(1.0)
    return True


def test_a_consumed_event_body_leaves_the_brokers_files_once_its_wal_rolls_over(
    broker_as_deployed: None, bus: Bus
) -> None:
    if broker_files() is None:
        pytest.skip("the broker's files are not on this machine")
    values = {"email": f"broker.{uuid.uuid4().hex}@example.org"}
    channel = bus.channel()
    queue = f"{bus.namespace}.residue.probe"
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    try:
        body = json.dumps(values).encode()
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))
        method = wait_for(lambda: channel.basic_get(queue)[0], "the probe never arrived")
        channel.basic_ack(method.delivery_tag)
        assert broker_holds(values), "the scan must see the body in the broker's WAL first"

        assert broker_forgets(values, timeout=15.0), broker_holds(values)
    finally:
        channel.queue_delete(queue)
        channel.connection.close()
