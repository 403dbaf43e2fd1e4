"""A school's own wording of its news (issue 17: templates per category and language).

A template is a subject and a one-line body with placeholders in braces: `{child}` and
the facts of its category. It words the news when first told (a correction or a removal
keeps the built-in wording). A broken template is refused when saved, never when sent:
an unknown placeholder, braces that do not pair, or a line that would not fit one SMS
part with a long name and typical facts.
"""

from __future__ import annotations

import string

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notify import categories as c
from notify.models import Template
from notify.news_texts import fill
from notify.sms import sms_parts

LANGUAGES = ("ru", "en")

PLACEHOLDERS: dict[str, frozenset[str]] = {
    c.MARK: frozenset({"value", "lesson_date", "work_type"}),
    c.FINAL_MARK: frozenset({"value"}),
    c.ABSENCE: frozenset({"lesson_date", "status", "reason"}),
    c.HOMEWORK: frozenset({"due_on", "text"}),
    c.LESSON_CANCELLED: frozenset({"date", "slot"}),
    c.LESSON_MOVED: frozenset({"date", "slot"}),
    c.LESSON_SUBSTITUTED: frozenset({"date", "slot"}),
    c.CONTROL_TEST: frozenset({"date", "slot", "control_form"}),
    c.HOLIDAYS: frozenset({"holidays"}),
    c.TEACHER_MESSAGE: frozenset({"text", "kind"}),
    c.AGREEMENT_TERMINATED: frozenset({"effective_at"}),
}
EVERY_TEMPLATE = frozenset({"child"})

# What a preview fills in: a long name and facts as short as they commonly are, so that
# a line that fits here fits one SMS part for nearly every child.
SAMPLE = {
    "child": "Александра Константинопольская",
    "value": "5",
    "lesson_date": "2025-10-06",
    "work_type": "test",
    "status": "absent",
    "reason": "illness",
    "due_on": "2025-10-08",
    "text": "§12",
    "date": "2025-10-06",
    "slot": "2",
    "control_form": "test",
    "holidays": "2025-10-27–2025-11-04",
    "kind": "message",
    "effective_at": "2025-12-01",
}


def problems(category: str, subject: str, body: str) -> dict[str, str]:
    """What is wrong with a template, by field; empty when it can be saved."""
    found: dict[str, str] = {}
    allowed = PLACEHOLDERS.get(category, frozenset()) | EVERY_TEMPLATE
    for field, text in (("subject", subject), ("body", body)):
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError:
            found[field] = "Braces do not pair: write {placeholder}."
            continue
        unknown = sorted(names - allowed)
        if unknown:
            found[field] = (
                f"Unknown placeholder {{{unknown[0]}}}; known: {', '.join(sorted(allowed))}."
            )
    if "body" not in found and sms_parts(fill(body, SAMPLE)) > 1:
        found["body"] = "Longer than one SMS part (70 Cyrillic characters) with a long name."
    return found


def newest(session: Session, school_id: str, category: str, language: str) -> Template | None:
    return session.scalars(
        select(Template)
        .where(
            Template.school_id == school_id,
            Template.category == category,
            Template.language == language,
        )
        .order_by(Template.version.desc())
        .limit(1)
    ).first()


def save(session: Session, school_id: str, wanted: dict[str, str], by: str) -> Template:
    """A new version of the school's template of that category and language."""
    version = session.scalar(
        select(func.coalesce(func.max(Template.version), 0)).where(
            Template.school_id == school_id,
            Template.category == wanted["category"],
            Template.language == wanted["language"],
        )
    )
    template = Template(
        school_id=school_id,
        category=wanted["category"],
        language=wanted["language"],
        version=(version or 0) + 1,
        subject=wanted["subject"],
        body=wanted["body"],
        saved_by=by,
    )
    session.add(template)
    return template


def preview(category: str, language: str, subject: str, body: str) -> dict[str, str]:
    del category, language  # the same sample facts serve every category and language
    return {"subject": fill(subject, SAMPLE), "body": fill(body, SAMPLE)}


def of_school(session: Session, school_id: str) -> dict[tuple[str, str], Template]:
    """The newest template of each category and language the school wrote."""
    rows = session.scalars(
        select(Template).where(Template.school_id == school_id).order_by(Template.version)
    )
    return {(row.category, row.language): row for row in rows}
