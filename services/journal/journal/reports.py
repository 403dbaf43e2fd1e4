"""Progress, attendance and control-test reports of a class or a student (R-JRN-13).

A weighted average is Σ(score × weight) / Σ(weight) over a student's marks in a subject
and period, where the score of a mark comes from its work type's scale and the weight
from the work type. Marks without a score (pass/fail) count as marks but not in the
average. Averages are computed per scale, since a «4» of five and a «4» of ten differ.
Everything is counted in the database, grouped, so a year of marks costs one query.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from journal.models import Attendance, Lesson, Mark, WorkType
from journal.report_scope import (
    DateRange,
    ReportScope,
    class_scope,
    date_range,
    student_class,
    student_not_found,
    subject_names,
)
from journal.scales import scale_marks
from schoolkit.auth import Principal

Key = tuple[str, ...]


@dataclass
class Average:
    weighted_sum: float = 0.0
    weights: float = 0.0
    marks: int = 0

    def add(self, score: float | None, weight: float, count: int) -> None:
        self.marks += count
        if score is not None:
            self.weighted_sum += score * weight * count
            self.weights += weight * count

    @property
    def value(self) -> float | None:
        return round(self.weighted_sum / self.weights, 2) if self.weights else None


class Scores:
    """The score of each mark of each scale the school uses, looked up once per report."""

    def __init__(self, session: Session, school_id: str) -> None:
        self._session, self._school_id = session, school_id
        self._scales: dict[str, dict[str, Any]] = {}

    def marks_of(self, scale: str) -> dict[str, Any]:
        if scale not in self._scales:
            marks = scale_marks(self._session, self._school_id, scale)
            self._scales[scale] = {mark["mark"]: mark for mark in marks}
        return self._scales[scale]

    def score(self, scale: str, value: str) -> float | None:
        mark = self.marks_of(scale).get(value)
        return None if mark is None or mark.get("score") is None else float(mark["score"])

    def passing(self, scale: str, value: str) -> bool:
        return bool(self.marks_of(scale).get(value, {}).get("passing"))


def class_progress(
    session: Session, caller: Principal, class_id: str, period_id: str | None
) -> dict[str, Any]:
    scope = class_scope(session, caller, class_id)
    dates = date_range(session, caller.school_id, period_id)
    counts = _mark_counts(session, scope, dates, student_id=None)
    per_student, per_class = _averages(Scores(session, caller.school_id), counts, dates)
    return {
        "class_id": scope.class_id,
        "class_name": scope.school_class.name,
        "period_id": dates.period_id,
        "subjects": subject_names(session, caller.school_id, {row.subject_id for row in counts}),
        "students": _by_student(per_student),
        "class_averages": [_average_row(key, average) for key, average in per_class.items()],
    }


def student_progress(
    session: Session, caller: Principal, student_id: str, period_id: str | None
) -> dict[str, Any]:
    scope = class_scope(
        session,
        caller,
        student_class(session, caller.school_id, student_id),
        not_found=student_not_found(),
    )
    dates = date_range(session, caller.school_id, period_id)
    counts = _mark_counts(session, scope, dates, student_id=student_id)
    per_student, _ = _averages(Scores(session, caller.school_id), counts, dates)
    attendance = _attendance_counts(session, scope, dates, student_id=student_id)
    return {
        "student_id": student_id,
        "class_id": scope.class_id,
        "period_id": dates.period_id,
        "subjects": subject_names(session, caller.school_id, {row.subject_id for row in counts}),
        "averages": [_average_row(key[1:], average) for key, average in per_student.items()],
        "attendance": _attendance_totals(attendance, by=lambda row: row.student_id).get(
            student_id, _empty_attendance()
        ),
    }


def class_attendance(
    session: Session, caller: Principal, class_id: str, period_id: str | None
) -> dict[str, Any]:
    scope = class_scope(session, caller, class_id)
    dates = date_range(session, caller.school_id, period_id)
    rows = _attendance_counts(session, scope, dates, student_id=None)
    students = _attendance_totals(rows, by=lambda row: row.student_id)
    subjects = _attendance_totals(rows, by=lambda row: row.subject_id)
    return {
        "class_id": scope.class_id,
        "class_name": scope.school_class.name,
        "period_id": dates.period_id,
        "students": [{"student_id": key, **totals} for key, totals in sorted(students.items())],
        "subjects": [{"subject_id": key, **totals} for key, totals in sorted(subjects.items())],
        "total": _attendance_totals(rows, by=lambda _: "all").get("all", _empty_attendance()),
    }


def control_test_results(
    session: Session, caller: Principal, class_id: str, period_id: str | None
) -> dict[str, Any]:
    """Each control test (a lesson with marks of a control work type): the distribution of
    marks, the average score and the share of passing marks."""
    scope = class_scope(session, caller, class_id)
    dates = date_range(session, caller.school_id, period_id)
    query = (
        scope.lessons(
            Lesson.lesson_id,
            Lesson.date,
            Lesson.subject_id,
            WorkType.code,
            WorkType.name,
            WorkType.scale,
            Mark.value,
            func.count().label("count"),
            dates=dates,
        )
        .join(Mark, Mark.lesson_id == Lesson.lesson_id)
        .join(WorkType, WorkType.work_type_id == Mark.work_type_id)
        .where(WorkType.control.is_(True))
        .group_by(
            Lesson.lesson_id,
            Lesson.date,
            Lesson.subject_id,
            WorkType.code,
            WorkType.name,
            WorkType.scale,
            Mark.value,
        )
        .order_by(Lesson.date, Lesson.lesson_id)
    )
    scores = Scores(session, caller.school_id)
    tests: dict[Key, dict[str, Any]] = {}
    for row in session.execute(query):
        test = tests.setdefault(
            (row.lesson_id, row.code), _new_test(row.lesson_id, row.date, row.subject_id, row)
        )
        _add_to_test(test, scores, row.scale, row.value, row.count)
    return {
        "class_id": scope.class_id,
        "period_id": dates.period_id,
        "tests": [_finish_test(test) for test in tests.values()],
    }


def _mark_counts(
    session: Session, scope: ReportScope, dates: DateRange, *, student_id: str | None
) -> list[Any]:
    grouped = (
        Mark.student_id,
        Lesson.subject_id,
        Lesson.period_id,
        WorkType.scale,
        WorkType.weight,
        Mark.value,
    )
    query = (
        scope.lessons(*grouped, func.count().label("count"), dates=dates)
        .join(Mark, Mark.lesson_id == Lesson.lesson_id)
        .join(WorkType, WorkType.work_type_id == Mark.work_type_id)
        .group_by(*grouped)
    )
    if student_id is not None:
        query = query.where(Mark.student_id == student_id)
    return list(session.execute(query))


def _averages(
    scores: Scores, counts: list[Any], dates: DateRange
) -> tuple[dict[Key, Average], dict[Key, Average]]:
    per_student: dict[Key, Average] = defaultdict(Average)
    per_class: dict[Key, Average] = defaultdict(Average)
    for row in counts:
        # A named period gathers its lessons whatever quarter they sit in.
        period = dates.period_id or row.period_id
        score = scores.score(row.scale, row.value)
        key = (row.subject_id, period, row.scale)
        per_student[(row.student_id, *key)].add(score, row.weight, row.count)
        per_class[key].add(score, row.weight, row.count)
    return per_student, per_class


def _average_row(key: Key, average: Average) -> dict[str, Any]:
    subject_id, period_id, scale = key
    return {
        "subject_id": subject_id,
        "period_id": period_id,
        "scale": scale,
        "weighted_average": average.value,
        "marks": average.marks,
    }


def _by_student(per_student: dict[Key, Average]) -> list[dict[str, Any]]:
    students: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (student_id, *key), average in sorted(per_student.items()):
        students[student_id].append(_average_row(tuple(key), average))
    return [{"student_id": student, "averages": rows} for student, rows in students.items()]


def _attendance_counts(
    session: Session, scope: ReportScope, dates: DateRange, *, student_id: str | None
) -> list[Any]:
    grouped = (Attendance.student_id, Lesson.subject_id, Attendance.status, Attendance.reason)
    query = (
        scope.lessons(*grouped, func.count().label("count"), dates=dates)
        .join(Attendance, Attendance.lesson_id == Lesson.lesson_id)
        .group_by(*grouped)
    )
    if student_id is not None:
        query = query.where(Attendance.student_id == student_id)
    return list(session.execute(query))


def _empty_attendance() -> dict[str, Any]:
    return {"recorded": 0, "present": 0, "late": 0, "absent": 0, "absent_by_reason": {}}


def _attendance_totals(rows: list[Any], by: Any) -> dict[str, dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = defaultdict(_empty_attendance)
    for row in rows:
        total = totals[by(row)]
        total["recorded"] += row.count
        total[row.status] += row.count
        if row.status == "absent":
            reason = row.reason or "unknown"
            total["absent_by_reason"][reason] = total["absent_by_reason"].get(reason, 0) + row.count
    for total in totals.values():
        total["absent_share"] = round(total["absent"] / total["recorded"], 4)
    return dict(totals)


def _new_test(lesson_id: str, day: Any, subject_id: str, row: Any) -> dict[str, Any]:
    return {
        "lesson_id": lesson_id,
        "date": day.isoformat(),
        "subject_id": subject_id,
        "work_type": row.code,
        "work_type_name": row.name,
        "scale": row.scale,
        "distribution": {},
        "_average": Average(),
        "_passing": 0,
    }


def _add_to_test(test: dict[str, Any], scores: Scores, scale: str, value: str, count: int) -> None:
    test["distribution"][value] = count
    test["_average"].add(scores.score(scale, value), 1.0, count)
    test["_passing"] += count if scores.passing(scale, value) else 0


def _finish_test(test: dict[str, Any]) -> dict[str, Any]:
    average: Average = test.pop("_average")
    passing: int = test.pop("_passing")
    return {
        **test,
        "marks": average.marks,
        "average": average.value,
        "passing_share": round(passing / average.marks, 4) if average.marks else None,
    }
