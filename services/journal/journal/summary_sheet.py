"""The standard-form summary sheet of final marks: a class's students × subjects × the
year's periods (R-JRN-13), as data, as a printable PDF (A4 landscape, one page per
period) and as an XLSX workbook (subjects across, each split into the periods).

The journal knows students by identity's person ids, not by name: the sheet lists them
by number and id, and the school's printout pairs them with the class list.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.models import Assignment, Finalization, FinalMark, Period
from journal.report_scope import class_scope, class_students, subject_names
from journal.reports import Average, Scores
from journal.school_year import year_of
from schoolkit.auth import Principal
from schoolkit.pdf import heading, new_document, paragraph, table, to_bytes

TITLE = "Сводная ведомость итоговых отметок"
AVERAGE_ROW = "Средний балл"
NUMBER_WIDTH, STUDENT_WIDTH = 8.0, 76.0  # mm; a person id fits on one line


@dataclass
class Sheet:
    class_id: str
    class_name: str
    year_name: str
    periods: list[dict[str, Any]]
    subjects: list[dict[str, Any]]
    students: list[str]
    finals: dict[tuple[str, str, str], str] = field(default_factory=dict)
    averages: dict[tuple[str, str], float | None] = field(default_factory=dict)

    def value(self, student_id: str, subject_id: str, period_id: str) -> str:
        return self.finals.get((student_id, subject_id, period_id), "")

    def as_json(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "class_name": self.class_name,
            "year_name": self.year_name,
            "periods": self.periods,
            "subjects": self.subjects,
            "students": [
                {"number": number, "student_id": student, "finals": self._finals_of(student)}
                for number, student in enumerate(self.students, start=1)
            ],
            "averages": [
                {"subject_id": subject, "period_id": period, "average": average}
                for (subject, period), average in sorted(self.averages.items())
            ],
        }

    def _finals_of(self, student_id: str) -> list[dict[str, str]]:
        return [
            {"subject_id": subject, "period_id": period, "value": value}
            for (student, subject, period), value in sorted(self.finals.items())
            if student == student_id
        ]


def final_marks_sheet(session: Session, caller: Principal, class_id: str) -> Sheet:
    scope = class_scope(session, caller, class_id)
    school_class = scope.school_class
    year = year_of(session, caller.school_id, school_class.year_id)
    query = (
        select(
            FinalMark.student_id,
            FinalMark.value,
            Finalization.subject_id,
            Finalization.period_id,
            Finalization.scale,
        )
        .join(Finalization, Finalization.finalization_id == FinalMark.finalization_id)
        .where(Finalization.class_id == school_class.class_id)
    )
    if scope.subject_ids is not None:
        query = query.where(Finalization.subject_id.in_(scope.subject_ids))
    rows = list(session.execute(query))
    taught = set(
        session.scalars(
            select(Assignment.subject_id).where(Assignment.class_id == school_class.class_id)
        )
    )
    if scope.subject_ids is not None:
        taught &= scope.subject_ids
    students = class_students(session, school_class.class_id)
    students += sorted({row.student_id for row in rows} - set(students))
    sheet = Sheet(
        class_id=school_class.class_id,
        class_name=school_class.name,
        year_name=year.name,
        periods=_periods_in_order(session, year.year_id),
        subjects=subject_names(
            session, caller.school_id, taught | {row.subject_id for row in rows}
        ),
        students=students,
    )
    _fill(sheet, rows, Scores(session, caller.school_id))
    return sheet


def _periods_in_order(session: Session, year_id: str) -> list[dict[str, Any]]:
    # Quarters (or trimesters) in order, then the year's own period, as the form has them.
    periods = session.scalars(select(Period).where(Period.year_id == year_id))
    ordered = sorted(periods, key=lambda p: (p.kind == "year", p.starts_on, p.name))
    return [{"period_id": p.period_id, "name": p.name, "kind": p.kind} for p in ordered]


def _fill(sheet: Sheet, rows: list[Any], scores: Scores) -> None:
    averages: dict[tuple[str, str], Average] = defaultdict(Average)
    for row in rows:
        label = scores.marks_of(row.scale).get(row.value, {}).get("label", row.value)
        sheet.finals[(row.student_id, row.subject_id, row.period_id)] = label
        averages[(row.subject_id, row.period_id)].add(scores.score(row.scale, row.value), 1.0, 1)
    sheet.averages = {key: average.value for key, average in averages.items()}


def as_pdf(sheet: Sheet) -> bytes:
    document = new_document(f"{TITLE}, {sheet.class_name}", orientation="landscape")
    for number, period in enumerate(sheet.periods or [{"period_id": "", "name": "—"}]):
        if number:
            document.add_page()
        heading(document, TITLE)
        paragraph(
            document,
            f"Класс: {sheet.class_name}    Учебный год: {sheet.year_name}    "
            f"Период: {period['name']}",
        )
        rows = _period_table(sheet, period["period_id"])
        subject_width = (document.epw - NUMBER_WIDTH - STUDENT_WIDTH) / max(len(sheet.subjects), 1)
        widths = (NUMBER_WIDTH, STUDENT_WIDTH, *([subject_width] * len(sheet.subjects)))
        table(document, rows, widths)
    return to_bytes(document)


def _period_table(sheet: Sheet, period_id: str) -> list[list[str]]:
    header = ["№", "Учащийся", *(_short(subject) for subject in sheet.subjects)]
    rows = [
        [
            str(number),
            student,
            *(sheet.value(student, s["subject_id"], period_id) for s in sheet.subjects),
        ]
        for number, student in enumerate(sheet.students, start=1)
    ]
    averages = [
        _format_average(sheet.averages.get((s["subject_id"], period_id))) for s in sheet.subjects
    ]
    return [header, *rows, ["", AVERAGE_ROW, *averages]]


def as_xlsx(sheet: Sheet) -> bytes:
    workbook = Workbook()
    page = workbook.active
    page.title = "Сводная ведомость"
    page.append([TITLE])
    page.append([f"Класс: {sheet.class_name}", None, f"Учебный год: {sheet.year_name}"])
    page.append([])
    _xlsx_header(page, sheet)
    for number, student in enumerate(sheet.students, start=1):
        page.append([number, student, *_xlsx_cells(sheet, student)])
    page.append([None, AVERAGE_ROW, *_xlsx_averages(sheet)])
    page.column_dimensions["B"].width = 40
    page["A1"].font = Font(bold=True, size=14)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_header(page: Any, sheet: Sheet) -> None:
    """Row 4 names each subject over as many columns as periods; row 5 names the periods."""
    width = max(len(sheet.periods), 1)
    page.append(["№", "Учащийся"])
    page.append([None, None])
    for index, subject in enumerate(sheet.subjects):
        first = 3 + index * width
        page.cell(row=4, column=first, value=subject["name"]).font = Font(bold=True)
        page.cell(row=4, column=first).alignment = Alignment(horizontal="center")
        if width > 1:
            page.merge_cells(f"{get_column_letter(first)}4:{get_column_letter(first + width - 1)}4")
        for offset, period in enumerate(sheet.periods):
            page.cell(row=5, column=first + offset, value=period["name"])


def _xlsx_cells(sheet: Sheet, student: str) -> list[int | str | None]:
    return [
        _number_or_text(sheet.value(student, subject["subject_id"], period["period_id"]))
        for subject in sheet.subjects
        for period in sheet.periods
    ]


def _xlsx_averages(sheet: Sheet) -> list[float | None]:
    return [
        sheet.averages.get((subject["subject_id"], period["period_id"]))
        for subject in sheet.subjects
        for period in sheet.periods
    ]


def _number_or_text(value: str) -> int | str | None:
    if not value:
        return None
    return int(value) if value.isdigit() else value


def _short(subject: dict[str, Any]) -> str:
    return str(subject.get("short_name") or subject["name"])


def _format_average(average: float | None) -> str:
    return "" if average is None else f"{average:.2f}".replace(".", ",")
