"""The administrator backs up, verifies and restores the school's archive (R-ARC-2…4)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from archive.app import create_app
from archive.handlers import build_handlers
from archive.keys import KeyStore, master_key_from_env
from archive.models import Drill
from archive.schedule import RequestedBackups
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings, project_root
from schoolkit.testing import TokenIssuer

SCHOOL = "school-254"
API = "/api/archive/v1"


@pytest.fixture
def database_url(postgres_url: str) -> str:
    upgrade("archive", postgres_url)
    database = Database(postgres_url)
    mark = load_contracts(project_root() / "contracts").example("journal.mark.recorded")
    event = Event("journal.mark.recorded", mark["data"], SCHOOL, subject=mark["subject"])
    with database.transaction() as session:
        build_handlers(KeyStore(master_key_from_env()))[event.type](session, event)
    database.dispose()
    return postgres_url


@pytest.fixture
def client(database_url: str, token_issuer: TokenIssuer, tmp_path: Path) -> FlaskClient:
    settings = Settings.from_env(
        "archive", database_url=database_url, var_dir=tmp_path, **token_issuer.settings_overrides()
    )
    return create_app(settings).test_client()


def admin(token_issuer: TokenIssuer, school: str = SCHOOL) -> dict[str, str]:
    return token_issuer.bearer(sub=str(uuid.uuid4()), school_id=school, roles=["administrator"])


def backed_up(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str, tmp_path: Path
) -> dict[str, Any]:
    """Ask for a backup, let the worker's task write it, read it back."""
    asked = client.post(f"{API}/backups", headers=admin(token_issuer))
    assert asked.status_code == 202
    assert asked.json["status"] == "queued"
    assert asked.headers["Location"] == f"{API}/backups/{asked.json['id']}"
    database = Database(database_url)
    RequestedBackups(tmp_path)(database)
    database.dispose()
    return client.get(asked.headers["Location"], headers=admin(token_issuer)).json


def test_a_backup_asked_for_is_written_by_the_worker_then_verifies_and_restores(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str, tmp_path: Path
) -> None:
    backup = backed_up(client, token_issuer, database_url, tmp_path)
    assert (backup["status"], backup["records"]) == ("completed", 1)
    assert backup["services"] == ["archive", "journal"]

    verified = client.post(f"{API}/backups/{backup['id']}/verify", headers=admin(token_issuer)).json
    assert verified["intact"] is True
    restored = client.post(
        f"{API}/restores", json={"backup_id": backup["id"]}, headers=admin(token_issuer)
    )
    assert restored.json == {
        "restored": 0,
        "already_present": 1,
        "skipped_erased": 0,
        "skipped_unreadable": 0,
    }
    listed = client.get(f"{API}/backups", headers=admin(token_issuer)).json["items"]
    assert [b["id"] for b in listed] == [backup["id"]]


def test_a_backup_not_yet_written_cannot_be_restored(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    backup = client.post(f"{API}/backups", headers=admin(token_issuer)).json
    refused = client.post(
        f"{API}/restores", json={"backup_id": backup["id"]}, headers=admin(token_issuer)
    )
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "backup_not_ready"


def test_a_damaged_backup_file_is_reported_and_not_restored(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str, tmp_path: Path
) -> None:
    backup = backed_up(client, token_issuer, database_url, tmp_path)
    for path in (tmp_path / "backups").rglob("*.jsonl.gz"):
        path.write_bytes(b"not a backup")
    assert (
        client.post(f"{API}/backups/{backup['id']}/verify", headers=admin(token_issuer)).json[
            "intact"
        ]
        is False
    )
    refused = client.post(
        f"{API}/restores", json={"backup_id": backup["id"]}, headers=admin(token_issuer)
    )
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "backup_broken"


def test_another_school_cannot_see_or_restore_this_schools_backup(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    backup = client.post(f"{API}/backups", headers=admin(token_issuer)).json
    stranger = admin(token_issuer, school="school-other")
    assert client.get(f"{API}/backups/{backup['id']}", headers=stranger).status_code == 404
    restore = client.post(f"{API}/restores", json={"backup_id": backup["id"]}, headers=stranger)
    assert restore.status_code == 404


@pytest.mark.parametrize("role", ["operations", "deputy_director", "class_teacher", "guardian"])
def test_only_the_administrator_handles_backups(
    client: FlaskClient, token_issuer: TokenIssuer, role: str
) -> None:
    someone = token_issuer.bearer(sub=str(uuid.uuid4()), school_id=SCHOOL, roles=[role])
    assert client.post(f"{API}/backups", headers=someone).status_code == 403


def test_a_restore_without_a_backup_id_is_a_clear_422(
    client: FlaskClient, token_issuer: TokenIssuer
) -> None:
    answer = client.post(f"{API}/restores", json={}, headers=admin(token_issuer))
    assert answer.status_code == 422
    assert "backup_id" in answer.json["error"]["fields"]


def test_the_administrator_reads_the_restore_drills_and_nobody_else_does(
    client: FlaskClient, token_issuer: TokenIssuer, database_url: str
) -> None:
    database = Database(database_url)
    with database.transaction() as session:
        session.add(Drill(service="journal", passed=True, seconds=4.5, residue=0))
    database.dispose()
    drills = client.get(f"{API}/drills", headers=admin(token_issuer)).json["items"]
    assert [(d["service"], d["passed"], d["residue"]) for d in drills] == [("journal", True, 0)]
    assert drills[0]["started_at"].endswith(("Z", "+00:00"))
    teacher = token_issuer.bearer(
        sub=str(uuid.uuid4()), school_id=SCHOOL, roles=["subject_teacher"]
    )
    assert client.get(f"{API}/drills", headers=teacher).status_code == 403
