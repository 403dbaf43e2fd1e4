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


def attendance_label(status: str) -> str:
    labels = {"absent": _("Отсутствовал(а)"), "late": _("Опоздал(а)"), "present": _("Был(а)")}
    return labels.get(status, status)


def work_type_label(code: str) -> str:
    """The diary carries a work type's code (the journal's events do); the usual ones read
    as words, a school's own code as it is."""
    labels = {
        "answer": _("ответ на уроке"),
        "oral": _("устный ответ"),
        "written": _("письменная работа"),
        "homework": _("домашняя работа"),
        "independent": _("самостоятельная работа"),
        "control": _("контрольная работа"),
        "test": _("тест"),
        "dictation": _("диктант"),
        "essay": _("сочинение"),
        "laboratory_work": _("лабораторная работа"),
        "practical_work": _("практическая работа"),
        "project": _("проект"),
    }
    return labels.get(code, code)


def absence_reason_label(reason: str) -> str:
    labels = {
        "illness": _("болезнь"),
        "excused": _("уважительная причина"),
        "unexcused": _("без уважительной причины"),
        "school_activity": _("школьное мероприятие"),
    }
    return labels.get(reason, reason)


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def install(app: Flask) -> None:
    for function in (day_title, short_date, clock, moment, number):
        app.add_template_filter(function)
    for label in (attendance_label, work_type_label, absence_reason_label):
        app.add_template_global(label)
    app.add_template_global(message_text)
    app.context_processor(lambda: {"lang": current_language(), "school_zone": school_zone().key})
