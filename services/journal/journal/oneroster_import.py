"""A OneRoster 1.2 CSV bundle as the rows the journal's import applies (R-JRN-14, R-EXC-1).

The mapping is journal.oneroster's, read backwards: `homeroom` classes are the journal's
classes (title, grade); a student's enrollment in a homeroom enrols them there, and the
primary teacher of a homeroom is its class teacher; a teacher's enrollment in a
`scheduled` class is the teaching load of its course (the subject) in the class named by
its classCode. Students' enrollments in scheduled classes follow from their homeroom.
Person ids must be identity's (UUIDs); the import reports any other per row.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

from journal.oneroster import HOMEROOM
from schoolkit.errors import ApiError
from schoolkit.uploads import Row, read_table

NEEDED = ("courses.csv", "classes.csv", "enrollments.csv")


def bundle_batches(content: bytes) -> tuple[list[tuple[str, list[Row]]], list[dict[str, Any]]]:
    """A bundle's subjects, rosters and staff as the rows the journal's import applies, and
    the problems of rows that map to nothing (an enrollment in an unknown class)."""
    files = _read_bundle(content)
    courses = {row.cells.get("sourcedId", ""): row for row in files["courses.csv"]}
    classes = {row.cells.get("sourcedId", ""): row for row in files["classes.csv"]}
    subjects = [
        Row(
            row.number,
            {"name": row.cells.get("title", ""), "short_name": row.cells.get("courseCode", "")},
            row.file,
        )
        for key, row in courses.items()
        if key != HOMEROOM and not _is_homeroom_course(key, classes)
    ]
    rosters: list[Row] = [
        _homeroom_row(row, {}) for row in classes.values() if row.cells.get("classType") == HOMEROOM
    ]
    staff: list[Row] = []
    problems: list[dict[str, Any]] = []
    for row in files["enrollments.csv"]:
        if row.cells.get("classSourcedId", "") not in classes:
            problems.append(_unknown_class(row))
            continue
        placed = _place_enrollment(row, classes, courses)
        if placed is not None:
            kind, cells = placed
            (rosters if kind == "rosters" else staff).append(Row(row.number, cells, row.file))
    return [("subjects", subjects), ("rosters", rosters), ("staff", staff)], problems


def _unknown_class(row: Row) -> dict[str, Any]:
    return {
        "file": row.file,
        "row": row.number,
        "column": "classSourcedId",
        "problem": "No class of that sourcedId in classes.csv.",
    }


def _read_bundle(content: bytes) -> dict[str, list[Row]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise ApiError(
            422,
            "unreadable_file",
            "A OneRoster bundle is a zip of CSV files.",
            {"file": "Not a zip."},
        ) from None
    names = set(archive.namelist())
    missing = [name for name in NEEDED if name not in names]
    if missing:
        raise ApiError(
            422,
            "missing_files",
            "The bundle lacks files the import needs.",
            {"file": f"Missing: {', '.join(missing)}."},
        )
    return {name: read_table(archive.read(name), file=name).rows for name in NEEDED}


def _is_homeroom_course(course_id: str, classes: dict[str, Row]) -> bool:
    # Another system may name its homeroom course differently; its classes tell.
    kinds = {
        r.cells.get("classType")
        for r in classes.values()
        if r.cells.get("courseSourcedId") == course_id
    }
    return kinds == {HOMEROOM}


def _homeroom_row(row: Row, extra: dict[str, str]) -> Row:
    cells = {
        "class_name": row.cells.get("title", ""),
        "grade": row.cells.get("grades", "").split(",")[0].strip(),
        **extra,
    }
    return Row(row.number, cells, row.file)


def _place_enrollment(
    row: Row, classes: dict[str, Row], courses: dict[str, Row]
) -> tuple[str, dict[str, str]] | None:
    """A student in a homeroom → a roster row; a teacher of a scheduled class → a staff row;
    the primary teacher of a homeroom → its class teacher. Students of scheduled classes
    follow from their homeroom, so they add nothing."""
    target = classes[row.cells.get("classSourcedId", "")]
    role, user = row.cells.get("role", ""), row.cells.get("userSourcedId", "")
    homeroom = target.cells.get("classType") == HOMEROOM
    class_cells = _homeroom_row(target, {}).cells
    if homeroom and role == "student":
        begins = row.cells.get("beginDate", "") or datetime.now(UTC).date().isoformat()
        return "rosters", {**class_cells, "student_id": user, "enrolled_on": begins}
    if homeroom and role == "teacher" and row.cells.get("primary") == "true":
        return "rosters", {**class_cells, "class_teacher_id": user}
    if not homeroom and role == "teacher":
        course = courses.get(target.cells.get("courseSourcedId", ""))
        return "staff", {
            "teacher_id": user,
            "subject": course.cells.get("title", "") if course else "",
            "class_name": target.cells.get("classCode", ""),
        }
    return None
