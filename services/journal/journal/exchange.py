"""Export of the journal's data sets as CSV and XLSX (R-JRN-14, R-EXC-1).

Five data sets, each a header and rows: rosters (classes and their students), staff
(teachers with their load), subjects, lessons (the timetable as held, with topic and
homework) and marks. Only ids name people: names live in identity, not in the journal.
Rows are read in batches into a temporary file inside one snapshot, and the file streams
after the snapshot ends, so a year of marks holds no transaction open while it downloads.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from journal.models import (
    Assignment,
    Enrolment,
    Homework,
    Lesson,
    Mark,
    SchoolClass,
    Subject,
    WorkType,
    Year,
)

BATCH = 5000
# A CSV bigger than this moves from memory to a temporary file on disk.
SPOOL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: Iterable[list[Any]]


@dataclass(frozen=True)
class Filters:
    year_id: str | None = None
    class_id: str | None = None


def export(session: Session, school_id: str, dataset: str, filters: Filters) -> Table:
    return EXPORTS[dataset](session, school_id, filters)


def subjects_table(session: Session, school_id: str, _: Filters) -> Table:
    query = (
        select(Subject.subject_id, Subject.name, Subject.short_name)
        .where(Subject.school_id == school_id, Subject.removed.is_(False))
        .order_by(Subject.name)
    )
    return Table(["subject_id", "name", "short_name"], _stream(session, query))


def rosters_table(session: Session, school_id: str, filters: Filters) -> Table:
    """One row per student of a class; a class without students still has a row."""
    query = (
        select(
            SchoolClass.class_id,
            SchoolClass.name,
            SchoolClass.grade,
            Year.name,
            SchoolClass.class_teacher_id,
            Enrolment.student_id,
            Enrolment.individual_plan,
            Enrolment.enrolled_on,
        )
        .join(Year, Year.year_id == SchoolClass.year_id)
        .outerjoin(
            Enrolment,
            (Enrolment.class_id == SchoolClass.class_id) & Enrolment.left_on.is_(None),
        )
        .where(SchoolClass.school_id == school_id)
        .order_by(SchoolClass.grade, SchoolClass.name, Enrolment.student_id)
    )
    header = [
        "class_id",
        "class_name",
        "grade",
        "year",
        "class_teacher_id",
        "student_id",
        "individual_plan",
        "enrolled_on",
    ]
    return Table(header, _stream(session, _of_classes(query, filters)))


def staff_table(session: Session, school_id: str, filters: Filters) -> Table:
    query = (
        select(
            Assignment.teacher_id,
            Subject.name,
            SchoolClass.name,
            Assignment.hours_per_week,
            Assignment.subject_id,
            Assignment.class_id,
        )
        .join(Subject, Subject.subject_id == Assignment.subject_id)
        .join(SchoolClass, SchoolClass.class_id == Assignment.class_id)
        .where(Assignment.school_id == school_id)
        .order_by(Assignment.teacher_id, SchoolClass.grade, SchoolClass.name, Subject.name)
    )
    header = ["teacher_id", "subject", "class_name", "hours_per_week", "subject_id", "class_id"]
    return Table(header, _stream(session, _of_classes(query, filters)))


def lessons_table(session: Session, school_id: str, filters: Filters) -> Table:
    homework = (
        select(func.min(Homework.text))
        .where(Homework.lesson_id == Lesson.lesson_id)
        .scalar_subquery()
    )
    query = (
        select(
            Lesson.lesson_id,
            Lesson.date,
            Lesson.slot,
            Lesson.starts_at,
            Lesson.ends_at,
            SchoolClass.name,
            Subject.name,
            Lesson.teacher_id,
            Lesson.status,
            Lesson.topic,
            homework,
        )
        .join(SchoolClass, SchoolClass.class_id == Lesson.class_id)
        .join(Subject, Subject.subject_id == Lesson.subject_id)
        .where(Lesson.school_id == school_id)
        .order_by(Lesson.date, Lesson.slot, SchoolClass.name)
    )
    header = [
        "lesson_id",
        "date",
        "slot",
        "starts_at",
        "ends_at",
        "class_name",
        "subject",
        "teacher_id",
        "status",
        "topic",
        "homework",
    ]
    return Table(header, _stream(session, _of_classes(query, filters)))


def marks_table(session: Session, school_id: str, filters: Filters) -> Table:
    query = (
        select(
            Mark.mark_id,
            Lesson.date,
            SchoolClass.name,
            Subject.name,
            Mark.student_id,
            WorkType.code,
            WorkType.weight,
            Mark.value,
            Mark.comment,
            Mark.teacher_id,
            Mark.recorded_at,
            Lesson.lesson_id,
        )
        .join(Lesson, Lesson.lesson_id == Mark.lesson_id)
        .join(SchoolClass, SchoolClass.class_id == Lesson.class_id)
        .join(Subject, Subject.subject_id == Lesson.subject_id)
        .join(WorkType, WorkType.work_type_id == Mark.work_type_id)
        .where(Mark.school_id == school_id)
        .order_by(Lesson.date, SchoolClass.name, Subject.name, Mark.student_id)
    )
    header = [
        "mark_id",
        "date",
        "class_name",
        "subject",
        "student_id",
        "work_type",
        "weight",
        "value",
        "comment",
        "teacher_id",
        "recorded_at",
        "lesson_id",
    ]
    return Table(header, _stream(session, _of_classes(query, filters)))


EXPORTS = {
    "rosters": rosters_table,
    "staff": staff_table,
    "subjects": subjects_table,
    "lessons": lessons_table,
    "marks": marks_table,
}


def _of_classes(query: Select[Any], filters: Filters) -> Select[Any]:
    if filters.year_id:
        query = query.where(SchoolClass.year_id == filters.year_id)
    if filters.class_id:
        query = query.where(SchoolClass.class_id == filters.class_id)
    return query


def _stream(session: Session, query: Select[Any]) -> Iterator[list[Any]]:
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        yield [_cell(value) for value in row]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def csv_file(table: Table) -> IO[bytes]:
    """The table as CSV, UTF-8 with a BOM so Excel reads the Cyrillic, in a temporary file:
    in memory while small, on disk beyond SPOOL_BYTES, so a year of marks never fills RAM.

    Every row is read here, inside the caller's snapshot; the file streams after it ends.
    """
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the response closes it
    text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(table.header)
    writer.writerows(table.rows)
    text.flush()
    text.detach()  # the file outlives its text view
    return spool


def xlsx_bytes(table: Table, title: str) -> bytes:
    # write_only keeps memory flat however many rows there are.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(table.header)
    for row in table.rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
