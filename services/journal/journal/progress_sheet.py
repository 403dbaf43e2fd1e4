"""The class progress report printed: students × subjects, each cell the weighted average
of the period, with the class's own average below (R-JRN-13). PDF (A4 landscape) and
XLSX, from the same data as the JSON report (journal.reports.class_progress)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from schoolkit.pdf import heading, new_document, paragraph, table, to_bytes

CLASS_AVERAGE = "Средний балл класса"
NUMBER_WIDTH, STUDENT_WIDTH = 8.0, 76.0  # mm; a person id fits on one line


def _title(report: dict[str, Any], period_name: str) -> str:
    return f"Успеваемость класса {report['class_name']}, {period_name}"


def _rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows: number, student, an average per subject (None when none)."""
    subjects = report["subjects"]
    header = ["№", "Учащийся", *(s.get("short_name") or s["name"] for s in subjects)]
    rows: list[list[Any]] = []
    for number, student in enumerate(report["students"], start=1):
        averages = _numeric_by_subject(student["averages"])
        rows.append(
            [number, student["student_id"], *(averages.get(s["subject_id"]) for s in subjects)]
        )
    class_averages = _numeric_by_subject(report["class_averages"])
    rows.append([None, CLASS_AVERAGE, *(class_averages.get(s["subject_id"]) for s in subjects)])
    return header, rows


def _numeric_by_subject(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {
        row["subject_id"]: row["weighted_average"]
        for row in rows
        if row["weighted_average"] is not None
    }


def as_pdf(report: dict[str, Any], period_name: str) -> bytes:
    title = _title(report, period_name)
    document = new_document(title, orientation="landscape")
    heading(document, title)
    paragraph(document, "Средневзвешенные отметки по видам работ и их весам.", size=9)
    header, rows = _rows(report)
    printed = [header] + [[_text(cell) for cell in row] for row in rows]
    width = (document.epw - NUMBER_WIDTH - STUDENT_WIDTH) / max(len(header) - 2, 1)
    table(document, printed, (NUMBER_WIDTH, STUDENT_WIDTH, *([width] * (len(header) - 2))))
    return to_bytes(document)


def as_xlsx(report: dict[str, Any], period_name: str) -> bytes:
    workbook = Workbook()
    page = workbook.active
    page.title = "Успеваемость"
    page.append([_title(report, period_name)])
    page["A1"].font = Font(bold=True, size=14)
    page.append([])
    header, rows = _rows(report)
    page.append(header)
    for row in rows:
        page.append(row)
    page.column_dimensions["B"].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return f"{cell:.2f}".replace(".", ",")
    return str(cell)
