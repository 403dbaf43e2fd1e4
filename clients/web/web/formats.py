"""How dates, times and numbers read on a page: in the page's language, on the school's clock."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import gettext as _

from schoolkit.times import school_zone
from web.i18n import current_language
from web.messages_text import message_text


def day_title(value: str | date) -> str:
    return format_date(_as_date(value), "EEEE, d MMMM")


def short_date(value: str | date) -> str:
    return format_date(_as_date(value), "d MMMM yyyy")


def clock(value: str | None) -> str:
    """A school time comes on the school's wall clock already (2025-09-15T10:00:00+03:00)."""
    return value[11:16] if value else ""


def moment(value: str | None) -> str:
    """An instant (UTC offset from the API) shown on the school's clock."""
    if not value:
        return ""
    return format_datetime(datetime.fromisoformat(value), "d MMMM yyyy, HH:mm")


def number(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, format="#,##0.##")


def N_(message: str) -> str:  # noqa: N802 - Babel's keyword for "translate later"
    """Marks a text for the catalogue where it is defined; `gettext` translates it when used."""
    return message


# A page shows dozens of marks: each label is translated alone, not the whole table.
ATTENDANCE = {"absent": N_("Отсутствовал(а)"), "late": N_("Опоздал(а)"), "present": N_("Был(а)")}
# The diary carries a work type's code (the journal's events do); the usual ones read as
# words, a school's own code as it is.
WORK_TYPES = {
    "answer": N_("ответ на уроке"),
    "oral": N_("устный ответ"),
    "written": N_("письменная работа"),
    "homework": N_("домашняя работа"),
    "independent": N_("самостоятельная работа"),
    "control": N_("контрольная работа"),
    "test": N_("тест"),
    "dictation": N_("диктант"),
    "essay": N_("сочинение"),
    "laboratory_work": N_("лабораторная работа"),
    "practical_work": N_("практическая работа"),
    "project": N_("проект"),
}
ABSENCE_REASONS = {
    "illness": N_("болезнь"),
    "excused": N_("уважительная причина"),
    "unexcused": N_("без уважительной причины"),
    "school_activity": N_("школьное мероприятие"),
}


def _label(labels: dict[str, str], code: str) -> str:
    message = labels.get(code)
    return _(message) if message else code


def attendance_label(status: str) -> str:
    return _label(ATTENDANCE, status)


def work_type_label(code: str) -> str:
    return _label(WORK_TYPES, code)


def absence_reason_label(reason: str) -> str:
    return _label(ABSENCE_REASONS, reason)


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def install(app: Flask) -> None:
    for function in (day_title, short_date, clock, moment, number):
        app.add_template_filter(function)
    for label in (attendance_label, work_type_label, absence_reason_label):
        app.add_template_global(label)
    app.add_template_global(message_text)
    app.context_processor(lambda: {"lang": current_language(), "school_zone": school_zone().key})
