"""Bulk import of people under /api/identity/v1/imports (R-ROLE-1)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from identity import imports
from schoolkit.auth import ADMINISTRATOR, current_principal, require_roles
from schoolkit.errors import ApiError
from schoolkit.web import db_session

blueprint = Blueprint("imports", __name__, url_prefix="/v1")


def uploaded_file() -> bytes:
    """The file from a multipart form (`file`) or the raw body (CSV or XLSX, told apart by
    its bytes: schoolkit.uploads)."""
    if "file" in request.files:
        return request.files["file"].read()
    if request.content_type and not request.content_type.startswith("multipart/"):
        return request.get_data()
    raise ApiError(422, "file_required", "Send a CSV or XLSX file.", {"file": "required"})


@blueprint.post("/imports/people")
@require_roles(ADMINISTRATOR)
def import_people() -> Any:
    """Import people (and guardianships between them) from CSV or XLSX; `dry_run=true` only
    checks. Any bad row: 422 with the per-row report, nothing written.
    ---
    post:
      parameters:
      - {in: query, name: dry_run, schema: {type: boolean}}
      requestBody:
        content:
          text/csv: {}
          application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
          multipart/form-data: {}
      responses:
        200:
          description: The dry run's report.
        201:
          description: Imported; the report with the new ids by ref.
        422:
          description: The report, naming each bad row, column and problem.
    """
    dry_run = request.args.get("dry_run", "").lower() in ("1", "true", "yes")
    rows = imports.read_rows(uploaded_file())
    session = db_session()
    principal = current_principal()
    checked = imports.plan(session, principal.school_id, rows)
    report = checked.report(dry_run)
    if checked.errors:
        return {"error": _invalid(report), **report}, 422
    if dry_run:
        return report, 200
    report["created"] = imports.apply(session, principal.school_id, principal.user_id, checked)
    session.commit()
    return report, 201


def _invalid(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": "invalid_rows",
        "message": f"{len(report['errors'])} problems in the file; nothing was imported.",
        "fields": {"file": "invalid_rows"},
    }
