"""Export and import under /api/journal/v1/exports and /imports (R-JRN-14, R-EXC-1).

Exports: rosters, staff, subjects, lessons and marks as CSV or XLSX, and everything as a
OneRoster 1.2 CSV bundle. Imports: rosters, staff and subjects from CSV or XLSX, or from
a OneRoster bundle; `?dry_run=true` checks every row and writes nothing; a real run with
any bad row writes nothing either and answers 422 with the same report.

Who: the administrator exchanges rosters, staff and subjects (R-ROLE-1); lessons, marks
and the bundle (which holds marks) are the director's and deputy director's (R-ROLE-2),
as are imports that enrol students or set the teaching load, as through the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context
from marshmallow import EXCLUDE, Schema, fields, validate

from journal import exchange, exchange_import, oneroster, oneroster_import
from schoolkit.auth import (
    ADMINISTRATOR,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    current_principal,
    require_roles,
)
from schoolkit.errors import ApiError
from schoolkit.uploads import read_table, require_columns
from schoolkit.web import db_session

blueprint = Blueprint("journal_exchange", __name__, url_prefix="/v1")

SETS_UP_THE_YEAR = (DIRECTOR, DEPUTY_DIRECTOR)
KEEPS_REGISTERS = (*SETS_UP_THE_YEAR, ADMINISTRATOR)
EXPORTERS: dict[str, tuple[str, ...]] = {
    "rosters": KEEPS_REGISTERS,
    "staff": KEEPS_REGISTERS,
    "subjects": KEEPS_REGISTERS,
    "lessons": SETS_UP_THE_YEAR,
    "marks": SETS_UP_THE_YEAR,
}
IMPORTERS: dict[str, tuple[str, ...]] = {
    "subjects": KEEPS_REGISTERS,
    "rosters": SETS_UP_THE_YEAR,
    "staff": SETS_UP_THE_YEAR,
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))
    year_id = fields.UUID(load_default=None)
    class_id = fields.UUID(load_default=None)


class ImportQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    dry_run = fields.Boolean(load_default=False)
    year_id = fields.UUID(load_default=None)


EXCHANGE_SCHEMAS: dict[str, type[Schema]] = {
    "ExportQuery": ExportQuerySchema,
    "ImportQuery": ImportQuerySchema,
}


@blueprint.get("/exports/oneroster")
@require_roles(*SETS_UP_THE_YEAR)
def export_oneroster() -> Any:
    """The school as a OneRoster 1.2 CSV bundle (a zip with manifest.csv).
    ---
    get:
      responses:
        200: {description: "application/zip: manifest, orgs, academicSessions, courses, classes, users, enrollments, lineItems, results"}
    """
    body = oneroster.export_bundle(db_session(), current_principal().school_id)
    return _download(body, "application/zip", "oneroster.zip")


@blueprint.get("/exports/<dataset>")
@require_roles(*KEEPS_REGISTERS)
def export_dataset(dataset: str) -> Any:
    """One data set as CSV (UTF-8 with BOM) or XLSX.
    ---
    get:
      parameters:
      - {in: path, name: dataset, required: true, schema: {type: string, enum: [rosters, staff, subjects, lessons, marks]}}
      - {in: query, name: format, schema: {type: string, enum: [csv, xlsx]}}
      - {in: query, name: year_id, schema: {type: string, format: uuid}}
      - {in: query, name: class_id, schema: {type: string, format: uuid}}
      responses:
        200: {description: The data set as a file.}
        404: {description: No such data set (dataset_not_found).}
        422: ValidationFailed
    """
    _require_role_for(dataset, EXPORTERS)
    query = ExportQuerySchema().load(request.args.to_dict())
    filters = exchange.Filters(year_id=_text(query["year_id"]), class_id=_text(query["class_id"]))
    table = exchange.export(db_session(), current_principal().school_id, dataset, filters)
    if query["format"] == "xlsx":
        return _download(exchange.xlsx_bytes(table, dataset), XLSX, f"{dataset}.xlsx")
    chunks = stream_with_context(exchange.csv_chunks(table))
    response = Response(chunks, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{dataset}.csv"'
    return response


@blueprint.post("/imports/oneroster")
@require_roles(*SETS_UP_THE_YEAR)
def import_oneroster() -> Any:
    """Subjects, classes with their students and class teachers, and the teaching load from a
    OneRoster CSV bundle, into a year.
    ---
    post:
      parameters:
      - {in: query, name: dry_run, schema: {type: boolean}}
      - {in: query, name: year_id, required: true, schema: {type: string, format: uuid}}
      requestBody: {content: {application/zip: {}, multipart/form-data: {}}}
      responses:
        200: {description: "The report: {rows, created, unchanged, errors: [{file, row, column, problem}]}"}
        422: {description: Some row is wrong; nothing was written (import_rejected).}
    """
    query = _import_query(year_required=True)
    batches, problems = oneroster_import.bundle_batches(_uploaded())
    return _run(batches, query, problems)


@blueprint.post("/imports/<dataset>")
@require_roles(*KEEPS_REGISTERS)
def import_dataset(dataset: str) -> Any:
    """Rosters, staff or subjects from CSV or XLSX (the columns of the export).
    ---
    post:
      parameters:
      - {in: path, name: dataset, required: true, schema: {type: string, enum: [rosters, staff, subjects]}}
      - {in: query, name: dry_run, schema: {type: boolean}}
      - {in: query, name: year_id, schema: {type: string, format: uuid}, description: Required for rosters and staff.}
      requestBody: {content: {text/csv: {}, multipart/form-data: {}}}
      responses:
        200: {description: "The report: {rows, created, unchanged, errors: [{row, column, problem}]}"}
        422: {description: Some row is wrong; nothing was written (import_rejected).}
    """
    _require_role_for(dataset, IMPORTERS)
    query = _import_query(year_required=dataset != "subjects")
    upload = read_table(_uploaded())
    require_columns(upload, exchange_import.DATASETS[dataset].required)
    return _run([(dataset, upload.rows)], query, [])


def _run(
    batches: list[tuple[str, list[Any]]], query: dict[str, Any], problems: list[dict[str, Any]]
) -> Any:
    importer = exchange_import.Importer(db_session(), current_principal(), query["year_id"])
    report = exchange_import.run_import(
        db_session(), importer, batches, dry_run=query["dry_run"], known_errors=problems
    )
    if report.accepted or query["dry_run"]:
        return report.as_json()
    fields_ = {
        f"{error.get('file', 'row')}:{error['row']}.{error['column'] or 'row'}": error["problem"]
        for error in report.errors
    }
    message = f"{len(report.errors)} problem(s) in the file; nothing was imported."
    error = {"code": "import_rejected", "message": message, "fields": fields_}
    return jsonify({"error": error, "report": report.as_json()}), 422


def _import_query(*, year_required: bool) -> dict[str, Any]:
    query: dict[str, Any] = ImportQuerySchema().load(request.args.to_dict())
    query["year_id"] = _text(query["year_id"])
    if year_required and query["year_id"] is None:
        raise ApiError(422, "validation_failed", "Name the year.", {"year_id": "Required."})
    return query


def _uploaded() -> bytes:
    """The file of a multipart form (field `file`) or the raw request body."""
    upload = request.files.get("file")
    content = upload.read() if upload is not None else request.get_data()
    if not content:
        raise ApiError(422, "empty_file", "Send a file.", {"file": "Required."})
    return content


def _require_role_for(dataset: str, allowed: dict[str, tuple[str, ...]]) -> None:
    if dataset not in allowed:
        raise ApiError(
            404,
            "dataset_not_found",
            f"No data set «{dataset}».",
            {"dataset": f"One of: {', '.join(allowed)}."},
        )
    if not current_principal().has_any_role(*allowed[dataset]):
        raise ApiError(403, "forbidden", "Your role does not allow this.")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
