"""The paper extract (R-DRY-6): a student's diary for a date range, as an A4 PDF in Russian.

fpdf2 with the DejaVu Sans that ships in the kit (schoolkit.pdf), so Cyrillic renders anywhere.
One table per week: day, lesson, subject, topic, homework, marks, attendance.
"""

# Russian text on a Russian form: Cyrillic letters that look Latin are meant.

from __future__ import annotations

from datetime import UTC, date, datetime

from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy.orm import Session

from diary.access import StudentDiary
from diary.reading import DateRange, lessons_between, marks_between, person_name
from schoolkit.pdf import FAMILY, FONTS

WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
ATTENDANCE = {"absent": "Н", "late": "О"}
REASONS = {
    "illness": "болезнь",
    "excused": "уваж.",
    "unexcused": "неуваж.",
    "school_activity": "мероприятие",
    "other": "иное",
}
COLUMNS = (18, 8, 32, 50, 52, 14, 16)  # mm, within A4's 190 mm of text width
HEADINGS = ("Дата", "№", "Предмет", "Тема урока", "Домашнее задание", "Оценки", "Посещ.")


def render(session: Session, diary: StudentDiary, span: DateRange) -> bytes:
    lessons = lessons_between(session, diary, span, with_student_data=True)
    for mark in marks_between(session, diary, span):
        if mark["lesson_id"] in lessons:
            lessons[mark["lesson_id"]]["marks"].append(mark)
    pdf = _document()
    _title(pdf, person_name(session, diary.school_id, diary.student_id), span)
    _table(pdf, list(lessons.values()))
    return bytes(pdf.output())


def _document() -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(10, 12, 10)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Выписка из электронного дневника")
    pdf.add_page()
    return pdf


def _title(pdf: FPDF, student: str | None, span: DateRange) -> None:
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 8, "Выписка из электронного дневника", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(0, 6, f"Обучающийся: {student or '—'}", new_x="LMARGIN", new_y="NEXT")
    period = f"Период: {_ru(span.starts_on)} — {_ru(span.ends_on)}"
    pdf.cell(0, 6, period, new_x="LMARGIN", new_y="NEXT")
    made = datetime.now(UTC).strftime("%d.%m.%Y %H:%M UTC")
    pdf.cell(0, 6, f"Сформирована: {made}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _table(pdf: FPDF, lessons: list[dict]) -> None:
    if not lessons:
        pdf.cell(0, 8, "За выбранный период записей нет.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font(FAMILY, "", 8)
    heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    with pdf.table(col_widths=COLUMNS, headings_style=heading, line_height=4.5) as table:
        table.row(HEADINGS)
        for lesson in lessons:
            table.row(_cells(lesson))


def _cells(lesson: dict) -> tuple[str, ...]:
    homework = "; ".join(h["text"] for h in lesson["homework"]) or lesson["homework_summary"]
    marks = " ".join(str(mark["value"]) for mark in lesson["marks"])
    status = "отменён" if lesson["status"] == "cancelled" else ""
    return (
        f"{WEEKDAYS[lesson['date'].weekday()]} {lesson['date']:%d.%m}",
        str(lesson["slot"]),
        lesson["subject"] or "",
        " ".join(filter(None, (lesson["topic"], status))),
        homework or "",
        marks,
        _attendance(lesson["attendance"]),
    )


def _attendance(record: dict | None) -> str:
    if not record or record["status"] == "present":
        return ""
    mark = ATTENDANCE[record["status"]]
    reason = REASONS.get(record["reason"] or "")
    return f"{mark} ({reason})" if reason else mark


def _ru(day: date) -> str:
    return f"{day:%d.%m.%Y}"
