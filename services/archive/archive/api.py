"""The archive HTTP API under /api/archive/v1: thin routes (parse, call, serialise)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import select

from archive import backups
from archive.keys import KeyStore
from archive.models import Backup, Drill
from archive.schemas import (
    BackupListSchema,
    BackupSchema,
    DrillListSchema,
    RestoreReportSchema,
    RestoreRequestSchema,
    VerificationSchema,
)
from schoolkit.auth import ADMINISTRATOR, current_principal, require_roles
from schoolkit.errors import ApiError, load_json
from schoolkit.web import current_kit, db_session

blueprint = Blueprint("archive", __name__, url_prefix="/v1")


def _directory() -> Path:
    return backups.backup_dir(current_kit().settings.var_dir)


def _keys() -> KeyStore:
    return current_app.extensions["archive_keys"]  # type: ignore[no-any-return]


def _backup(backup_id: str) -> Backup:
    backup = db_session().get(Backup, backup_id)
    if backup is None or backup.school_id != current_principal().school_id:
        raise ApiError(404, "not_found", "No such backup.")
    return backup


@blueprint.post("/backups")
@require_roles(ADMINISTRATOR)
def create_backup() -> Any:
    """Ask for a backup of the school's archive now (R-ARC-2).

    The worker writes it within seconds, never this request: the answer is the queued
    backup, and `GET /v1/backups/{id}` shows it running, then completed or failed.
    ---
    post:
      responses:
        202:
          description: The backup is queued; its Location follows it.
          content:
            application/json:
              schema: Backup
    """
    session = db_session()
    backup = backups.request_backup(session, current_principal().school_id)
    session.commit()
    return BackupSchema().dump(backup), 202, {"Location": f"/api/archive/v1/backups/{backup.id}"}


@blueprint.get("/backups")
@require_roles(ADMINISTRATOR)
def list_backups() -> Any:
    """The school's backups, newest first.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: BackupList
    """
    query = select(Backup).where(Backup.school_id == current_principal().school_id)
    found = db_session().scalars(query.order_by(Backup.started_at.desc()).limit(200))
    return BackupListSchema().dump({"items": list(found)})


@blueprint.get("/backups/<backup_id>")
@require_roles(ADMINISTRATOR)
def read_backup(backup_id: str) -> Any:
    """One backup.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: Backup
        404: NotFound
    """
    return BackupSchema().dump(_backup(backup_id))


@blueprint.post("/backups/<backup_id>/verify")
@require_roles(ADMINISTRATOR)
def verify_backup(backup_id: str) -> Any:
    """Check that the file is there and unchanged (R-ARC-3).
    ---
    post:
      responses:
        200:
          content:
            application/json:
              schema: Verification
        404: NotFound
    """
    backup = _backup(backup_id)
    actual = backups.verify(backup, _directory())
    return VerificationSchema().dump(
        {
            "backup_id": backup.id,
            "intact": actual is not None and actual == backup.sha256,
            "expected_sha256": backup.sha256,
            "actual_sha256": actual,
        }
    )


@blueprint.post("/restores")
@require_roles(ADMINISTRATOR)
def restore_backup() -> Any:
    """Put back what a backup holds, except what was erased since (R-ARC-4).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: RestoreRequest
      responses:
        200:
          content:
            application/json:
              schema: RestoreReport
        404: NotFound
        409:
          description: The backup is not written yet, or its file is missing or damaged;
            nothing was restored.
    """
    backup = _backup(load_json(RestoreRequestSchema())["backup_id"])
    if backup.status in ("queued", "running"):
        raise ApiError(409, "backup_not_ready", f"The backup is {backup.status}; try when done.")
    session = db_session()
    try:
        report = backups.restore(session, backup, _directory(), _keys())
    except backups.BackupBroken as broken:
        raise ApiError(409, "backup_broken", f"The backup cannot be used: {broken}.") from broken
    session.commit()
    return RestoreReportSchema().dump(asdict(report))


@blueprint.get("/drills")
@require_roles(ADMINISTRATOR)
def list_drills() -> Any:
    """The restore drills of every service's database, newest first (issue 18 §7).
    They hold no school's data: ids of backup sets, verdicts, times and counts.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: DrillList
    """
    found = db_session().scalars(select(Drill).order_by(Drill.started_at.desc()).limit(200))
    return DrillListSchema().dump({"items": list(found)})
