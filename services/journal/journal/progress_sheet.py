"""The class progress report and the attendance summary, printed (R-JRN-13): students in
rows, with a total row, from the same data as their JSON reports (journal.reports)."""

from __future__ import annotations

from typing import Any

from journal.printable import Printable

CLASS_AVERAGE = "Средний балл класса"
CLASS_TOTAL = "Всего по классу"
ATTENDANCE_COLUMNS = ("Отмечено", "Присутствовал", "Опоздал", "Отсутствовал", "Пропущено, %")


def progress(report: dict[str, Any], period_name: str) -> Printable:
    """Students × subjects, each cell the weighted average of the period."""
    subjects = report["subjects"]
    header = ["№", "Учащийся", *(s.get("short_name") or s["name"] for s in subjects)]
    rows: list[list[Any]] = []
    for number, student in enumerate(report["students"], start=1):
        averages = _by_subject(student["averages"])
        rows.append(
            [number, student["student_id"], *(averages.get(s["subject_id"]) for s in subjects)]
        )
    class_averages = _by_subject(report["class_averages"])
    rows.append([None, CLASS_AVERAGE, *(class_averages.get(s["subject_id"]) for s in subjects)])
    return Printable(
        title=f"Успеваемость класса {report['class_name']}, {period_name}",
        note="Средневзвешенные отметки по видам работ и их весам.",
        header=header,
        rows=rows,
    )


def attendance(report: dict[str, Any], class_name: str, period_name: str) -> Printable:
    """Students with their lessons recorded, present, late, absent and the share missed."""
    rows: list[list[Any]] = [
        [number, student["student_id"], *_attendance_cells(student)]
        for number, student in enumerate(report["students"], start=1)
    ]
    rows.append([None, CLASS_TOTAL, *_attendance_cells(report["total"])])
    return Printable(
        title=f"Посещаемость класса {class_name}, {period_name}",
        note="Уроки, на которых отмечена посещаемость.",
        header=["№", "Учащийся", *ATTENDANCE_COLUMNS],
        rows=rows,
    )


def _attendance_cells(totals: dict[str, Any]) -> list[Any]:
    share = totals.get("absent_share")
    return [
        totals["recorded"],
        totals["present"],
        totals["late"],
        totals["absent"],
        None if share is None else round(share * 100, 1),
    ]


def _by_subject(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {
        row["subject_id"]: row["weighted_average"]
        for row in rows
        if row["weighted_average"] is not None
    }
