"""The reports under /api/journal/v1/reports (R-JRN-12, R-JRN-13): thin routes.

Who sees what follows the role table (journal.report_scope): the director and deputy
director the whole school, a class teacher their class, a subject teacher the subjects
they teach. The summary sheet of final marks also comes as PDF and XLSX, for printing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response

from journal import control_checks, progress_sheet, reports, summary_sheet
from journal import printable as printable_table
from journal.report_schemas import (
    ChecksQuerySchema,
    ComplianceQuerySchema,
    PrintableQuerySchema,
    ReportQuerySchema,
    SheetQuerySchema,
    load_query,
)
from journal.report_scope import period_of
from schoolkit.auth import (
    CLASS_TEACHER,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    SUBJECT_TEACHER,
    current_principal,
    require_roles,
)
from schoolkit.errors import ApiError
from schoolkit.web import db_session, file_response, snapshot

blueprint = Blueprint("journal_reports", __name__, url_prefix="/v1/reports")

READS_REPORTS = (DIRECTOR, DEPUTY_DIRECTOR, CLASS_TEACHER, SUBJECT_TEACHER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blueprint.get("/classes/<class_id>/progress")
@require_roles(*READS_REPORTS)
def class_progress(class_id: str) -> Any:
    """Weighted averages per student, subject and period, and the class's own; for one period
    also printable as PDF or XLSX.
    ---
    get:
      parameters:
      - {in: query, name: period_id, schema: {type: string, format: uuid}}
      - {in: query, name: format, schema: {type: string, enum: [json, pdf, xlsx]}}
      responses:
        200: {description: "{subjects, students: [{student_id, averages}], class_averages}, or a file"}
        403: {description: Teaching none of the class's subjects as a whole (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
        422: {description: A printable report without a period (validation_failed).}
    """
    query = load_query(PrintableQuerySchema())
    caller = current_principal()
    with snapshot() as session:
        report = reports.class_progress(session, caller, class_id, _period_for(query))
        if query["format"] == "json":
            return report
        period_name = period_of(session, caller.school_id, query["period_id"]).name
    return _printed(progress_sheet.progress(report, period_name), query["format"], "progress")


@blueprint.get("/students/<student_id>/progress")
@require_roles(*READS_REPORTS)
def student_progress(student_id: str) -> Any:
    """A student's weighted averages per subject and period, and their attendance.
    ---
    get:
      parameters:
      - {in: query, name: period_id, schema: {type: string, format: uuid}}
      responses:
        200: {description: "{averages, attendance}"}
        404: {description: Not a student of this school (student_not_found).}
    """
    period_id = load_query(ReportQuerySchema())["period_id"]
    return reports.student_progress(db_session(), current_principal(), student_id, period_id)


@blueprint.get("/classes/<class_id>/attendance")
@require_roles(*READS_REPORTS)
def class_attendance(class_id: str) -> Any:
    """Present, late and absent (by reason) per student and per subject; for one period also
    printable as PDF or XLSX.
    ---
    get:
      parameters:
      - {in: query, name: period_id, schema: {type: string, format: uuid}}
      - {in: query, name: format, schema: {type: string, enum: [json, pdf, xlsx]}}
      responses:
        200: {description: "{students, subjects, total}, or a file"}
        422: {description: A printable report without a period (validation_failed).}
    """
    query = load_query(PrintableQuerySchema())
    caller = current_principal()
    with snapshot() as session:
        report = reports.class_attendance(session, caller, class_id, _period_for(query))
        if query["format"] == "json":
            return report
        period_name = period_of(session, caller.school_id, query["period_id"]).name
    printable = progress_sheet.attendance(report, report["class_name"], period_name)
    return _printed(printable, query["format"], "attendance")


@blueprint.get("/classes/<class_id>/control-tests")
@require_roles(*READS_REPORTS)
def control_tests(class_id: str) -> Any:
    """Each control test's marks: distribution, average, share passing.
    ---
    get:
      parameters:
      - {in: query, name: period_id, schema: {type: string, format: uuid}}
      responses:
        200: {description: "{tests: [{lesson_id, date, distribution, average, passing_share}]}"}
    """
    period_id = load_query(ReportQuerySchema())["period_id"]
    return reports.control_test_results(db_session(), current_principal(), class_id, period_id)


@blueprint.get("/classes/<class_id>/checks")
@require_roles(*READS_REPORTS)
def class_checks(class_id: str) -> Any:
    """The control checks of a class's journal in a period, up to a day.
    ---
    get:
      parameters:
      - {in: query, name: period_id, required: true, schema: {type: string, format: uuid}}
      - {in: query, name: as_of, schema: {type: string, format: date}}
      - {in: query, name: min_marks, schema: {type: integer, default: 3}}
      responses:
        200: {description: "Lessons without topic/homework/marks/attendance, substituted and missed lessons, mark density, planned vs held."}
        422: {description: A parameter missing or invalid (validation_failed).}
    """
    query = load_query(ChecksQuerySchema())
    return control_checks.class_checks(
        db_session(),
        current_principal(),
        class_id,
        query["period_id"],
        as_of=query["as_of"] or date.today(),
        min_marks=query["min_marks"],
    )


@blueprint.get("/teachers/compliance")
@require_roles(*READS_REPORTS)
def teacher_compliance() -> Any:
    """Per teacher: lessons held, without topic or attendance, late entries. The director and
    deputy see every teacher; a teacher sees themself.
    ---
    get:
      parameters:
      - {in: query, name: period_id, required: true, schema: {type: string, format: uuid}}
      - {in: query, name: as_of, schema: {type: string, format: date}}
      - {in: query, name: late_after_days, schema: {type: integer, default: 1}}
      responses:
        200: {description: "{teachers: [{teacher_id, lessons_held, lessons_without_topic, ...}]}"}
    """
    query = load_query(ComplianceQuerySchema())
    caller = current_principal()
    return control_checks.teacher_compliance(
        db_session(),
        caller,
        query["period_id"],
        as_of=query["as_of"] or date.today(),
        late_after_days=query["late_after_days"],
        everyone=caller.has_any_role(DIRECTOR, DEPUTY_DIRECTOR),
    )


@blueprint.get("/classes/<class_id>/final-marks-sheet")
@require_roles(*READS_REPORTS)
def final_marks_sheet(class_id: str) -> Any:
    """The summary sheet of final marks: students × subjects × periods.
    ---
    get:
      parameters:
      - {in: query, name: format, schema: {type: string, enum: [json, pdf, xlsx]}}
      responses:
        200: {description: JSON, or a PDF (A4 landscape) or an XLSX workbook to print.}
    """
    wanted = load_query(SheetQuerySchema())["format"]
    with snapshot() as session:
        sheet = summary_sheet.final_marks_sheet(session, current_principal(), class_id)
    if wanted == "pdf":
        return file_response(summary_sheet.as_pdf(sheet), "application/pdf", "final-marks.pdf")
    if wanted == "xlsx":
        return file_response(summary_sheet.as_xlsx(sheet), XLSX, "final-marks.xlsx")
    return sheet.as_json()


def _period_for(query: dict[str, Any]) -> str | None:
    if query["format"] != "json" and query["period_id"] is None:
        raise ApiError(
            422,
            "validation_failed",
            "A printed report is of one period.",
            {"period_id": "Required with format pdf or xlsx."},
        )
    period_id: str | None = query["period_id"]
    return period_id


def _printed(printable: printable_table.Printable, wanted: str, name: str) -> Response:
    if wanted == "pdf":
        return file_response(printable_table.as_pdf(printable), "application/pdf", f"{name}.pdf")
    return file_response(printable_table.as_xlsx(printable, name), XLSX, f"{name}.xlsx")
