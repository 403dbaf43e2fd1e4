"""A report's table printed: PDF (A4 landscape, Cyrillic) or XLSX, the same rows in both.

The first two columns are the row's number and the student (by id: names live in
identity); the rest are numbers, printed with a decimal comma in the PDF and kept as
numbers in the workbook so a spreadsheet can sum them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from schoolkit.pdf import heading, new_document, paragraph, table, to_bytes

NUMBER_WIDTH, STUDENT_WIDTH = 8.0, 76.0  # mm; a person id fits on one line


@dataclass(frozen=True)
class Printable:
    title: str
    note: str
    header: list[str]
    rows: list[list[Any]]


def as_pdf(printable: Printable) -> bytes:
    document = new_document(printable.title, orientation="landscape")
    heading(document, printable.title)
    paragraph(document, printable.note, size=9)
    others = max(len(printable.header) - 2, 1)
    width = (document.epw - NUMBER_WIDTH - STUDENT_WIDTH) / others
    printed = [printable.header] + [[_text(cell) for cell in row] for row in printable.rows]
    table(document, printed, (NUMBER_WIDTH, STUDENT_WIDTH, *([width] * others)))
    return to_bytes(document)


def as_xlsx(printable: Printable, sheet_title: str) -> bytes:
    workbook = Workbook()
    page = workbook.active
    page.title = sheet_title[:31]
    page.append([printable.title])
    page["A1"].font = Font(bold=True, size=14)
    page.append([printable.note])
    page.append(printable.header)
    for row in printable.rows:
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
