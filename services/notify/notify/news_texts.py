"""The texts of everyday news, in the recipient's language (Russian unless they chose English).

Each line names the child; a digest gathers the lines of all the recipient's children.
A message says no more than the diary would show the same guardian.
"""

from __future__ import annotations

from dataclasses import dataclass

from notify import categories as c
from notify.messages import Message

SUBJECTS = {
    c.MARK: {"ru": "Оценка", "en": "Mark"},
    c.FINAL_MARK: {"ru": "Итоговая оценка", "en": "Final mark"},
    c.ABSENCE: {"ru": "Пропуск урока", "en": "Absence"},
    c.HOMEWORK: {"ru": "Домашнее задание", "en": "Homework"},
    c.LESSON_CANCELLED: {"ru": "Урок отменён", "en": "Lesson cancelled"},
    c.LESSON_MOVED: {"ru": "Урок перенесён", "en": "Lesson moved"},
    c.LESSON_SUBSTITUTED: {"ru": "Замена учителя", "en": "Substitute teacher"},
    c.CONTROL_TEST: {"ru": "Контрольная работа", "en": "Control test"},
    c.HOLIDAYS: {"ru": "Каникулы", "en": "Holidays"},
    c.TEACHER_MESSAGE: {"ru": "Сообщение учителя", "en": "Teacher's message"},
    c.AGREEMENT_TERMINATED: {
        "ru": "Расторжение соглашения об электронном дневнике",
        "en": "Electronic diary agreement terminated",
    },
}
DIGEST_SUBJECT = {"ru": "Новости электронного дневника", "en": "Electronic diary news"}


@dataclass(frozen=True)
class NewsLine:
    category: str
    child: str  # the child's name as the message shows it
    facts: dict[str, str]


def _ru(line: NewsLine) -> str:
    f, child = line.facts, line.child
    texts = {
        c.MARK: {
            "new": f"{child}: оценка {f.get('value')} за {f.get('lesson_date', '')}",
            "corrected": f"{child}: оценка за {f.get('lesson_date', '')} исправлена на "
            f"{f.get('value')}",
            "removed": f"{child}: оценка удалена из журнала",
        },
        c.ABSENCE: {
            "new": f"{child}: {_absence_ru(f)} {f.get('lesson_date', '')}",
            "removed": f"{child}: отметка об отсутствии {f.get('lesson_date', '')} снята",
        },
        c.FINAL_MARK: {"new": f"{child}: итоговая оценка за период {f.get('value')}"},
        c.HOMEWORK: {"new": f"{child}: домашнее задание к {f.get('due_on')}: {f.get('text')}"},
        c.LESSON_CANCELLED: {"new": f"{child}: урок {f.get('date')} ({_slot(f)}) отменён"},
        c.LESSON_MOVED: {"new": f"{child}: урок перенесён на {f.get('date')} ({_slot(f)})"},
        c.LESSON_SUBSTITUTED: {"new": f"{child}: замена учителя {f.get('date')} ({_slot(f)})"},
        c.CONTROL_TEST: {"new": f"{child}: контрольная работа {f.get('date')} ({_slot(f)})"},
        c.HOLIDAYS: {"new": f"{child}: каникулы — {f.get('holidays')}"},
        c.TEACHER_MESSAGE: {"new": f"{child}: сообщение учителя: {f.get('text')}"},
        c.AGREEMENT_TERMINATED: {
            "new": f"{child}: школа расторгает соглашение об электронном дневнике с "
            f"{f.get('effective_at', '')[:10]}; после этого сведения о ребёнке в дневнике "
            "и уведомлениях прекращаются."
        },
    }
    return _choose(texts[line.category], f)


def _en(line: NewsLine) -> str:
    f, child = line.facts, line.child
    texts = {
        c.MARK: {
            "new": f"{child}: mark {f.get('value')} for {f.get('lesson_date', '')}",
            "corrected": f"{child}: the mark for {f.get('lesson_date', '')} was corrected to "
            f"{f.get('value')}",
            "removed": f"{child}: a mark was removed from the journal",
        },
        c.ABSENCE: {
            "new": f"{child}: {f.get('status', 'absent')} on {f.get('lesson_date', '')}",
            "removed": f"{child}: the absence on {f.get('lesson_date', '')} was withdrawn",
        },
        c.FINAL_MARK: {"new": f"{child}: final mark for the period {f.get('value')}"},
        c.HOMEWORK: {"new": f"{child}: homework due {f.get('due_on')}: {f.get('text')}"},
        c.LESSON_CANCELLED: {"new": f"{child}: the lesson on {f.get('date')} is cancelled"},
        c.LESSON_MOVED: {"new": f"{child}: a lesson moved to {f.get('date')} ({_slot(f)})"},
        c.LESSON_SUBSTITUTED: {"new": f"{child}: a substitute teacher on {f.get('date')}"},
        c.CONTROL_TEST: {"new": f"{child}: control test on {f.get('date')} ({_slot(f)})"},
        c.HOLIDAYS: {"new": f"{child}: holidays — {f.get('holidays')}"},
        c.TEACHER_MESSAGE: {"new": f"{child}: message from the teacher: {f.get('text')}"},
        c.AGREEMENT_TERMINATED: {
            "new": f"{child}: the school terminates the electronic diary agreement from "
            f"{f.get('effective_at', '')[:10]}; the diary and its notifications then stop."
        },
    }
    return _choose(texts[line.category], f)


def _choose(variants: dict[str, str], facts: dict[str, str]) -> str:
    return variants.get(facts.get("change", "new"), variants["new"])


def _slot(facts: dict[str, str]) -> str:
    return f"{facts.get('slot', '?')}-й урок" if "slot" in facts else ""


def _absence_ru(facts: dict[str, str]) -> str:
    return "опоздание на урок" if facts.get("status") == "late" else "отсутствие на уроке"


Wording = dict[str, tuple[str, str]]  # a school's own: category -> (subject, body)


def line_text(line: NewsLine, language: str, wording: Wording | None = None) -> str:
    own = (wording or {}).get(line.category)
    if own is not None and line.facts.get("change", "new") == "new":
        return fill(own[1], {**line.facts, "child": line.child})
    return _en(line) if language == "en" else _ru(line)


def news_message(lines: list[NewsLine], language: str, wording: Wording | None = None) -> Message:
    """One item on its own, or a digest of several (possibly of several children)."""
    lang = "en" if language == "en" else "ru"
    if len(lines) == 1:
        line = lines[0]
        own = (wording or {}).get(line.category)
        subject = SUBJECTS[line.category][lang]
        if own is not None:
            subject = fill(own[0], {**line.facts, "child": line.child})
        return Message(subject, line_text(line, lang, wording))
    body = "\n".join(f"• {line_text(line, lang, wording)}" for line in lines)
    return Message(DIGEST_SUBJECT[lang], body)


def fill(text: str, facts: dict[str, str]) -> str:
    """A school's template with the facts; a fact the event lacks reads as nothing."""
    return text.format_map(_Blank(facts))


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""
