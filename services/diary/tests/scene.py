"""A small school scene shared by the API tests: class 5А this week, one covered family."""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from diary.testing import Family, SchoolEvents, covered_family, new_id
from schoolkit.events import Event

from .conftest import MONDAY, Apply


@dataclass
class Scene:
    family: Family
    maths: Event
    history: Event
    class_id: str
    class_teacher_id: str
    maths_teacher_id: str
    history_teacher_id: str
    group_id: str


def class_5a_this_week(school: SchoolEvents, apply: Apply) -> Scene:
    class_id, group_id = new_id(), new_id()
    class_teacher, maths_teacher, history_teacher = new_id(), new_id(), new_id()
    maths_id, history_id = new_id(), new_id()
    family = covered_family(school, class_id, MONDAY - timedelta(days=60))
    maths = school.lesson(
        new_id(), class_id, maths_id, maths_teacher, day=MONDAY, slot=1, topic="Дроби"
    )
    # History is taught to one group of the class, which our student is not in.
    history = school.lesson(
        new_id(), class_id, history_id, history_teacher, day=MONDAY, slot=2, group_id=group_id
    )
    apply(
        school.calendar(MONDAY - timedelta(days=40), MONDAY + timedelta(days=90)),
        school.subject(maths_id, "Математика"),
        school.subject(history_id, "История"),
        school.school_class(class_id, "5А", class_teacher),
        school.person(maths_teacher, "staff", "Петров", "Пётр"),
        school.person(class_teacher, "staff", "Смирнова", "Анна"),
        *family.events,
        maths,
        history,
    )
    return Scene(
        family, maths, history, class_id, class_teacher, maths_teacher, history_teacher, group_id
    )
