"""A 1,000-student school as the journal, identity and consent will describe it: their events.

The journal's own generator is being written in parallel; until it exists, this one
produces the contracts' events (validated) for 1,000 students in 40 classes, each with
a guardian who concluded a diary agreement, and a term of lessons, marks and attendance.
"""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from diary.testing import SchoolEvents, new_id
from schoolkit.events import Event

SUBJECTS = (
    "Математика",
    "Русский язык",
    "Литература",
    "История",
    "Биология",
    "Физика",
    "Английский язык",
)
LESSONS_PER_DAY = 5
WORK_TYPES = (("oral", 1), ("homework", 1), ("test", 2), ("control_test", 3))


@dataclass
class Pupil:
    student_id: str
    guardian_id: str
    class_id: str


@dataclass
class GeneratedSchool:
    events: SchoolEvents
    term_starts: date
    weeks: int
    pupils: list[Pupil] = field(default_factory=list)
    lessons: list[Event] = field(default_factory=list)

    @property
    def last_monday(self) -> date:
        return self.term_starts + timedelta(weeks=self.weeks - 1)


def generate(
    students: int = 1000, classes: int = 40, weeks: int = 9, seed: int = 254
) -> tuple[GeneratedSchool, Iterator[Event]]:
    """The school and its events in the order the services would send them."""
    rng = random.Random(seed)
    events = SchoolEvents(school_id="school-254")
    today = date.today()
    term_starts = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    school = GeneratedSchool(events, term_starts, weeks)
    return school, _events(school, students, classes, rng)


def _events(
    school: GeneratedSchool, students: int, classes: int, rng: random.Random
) -> Iterator[Event]:
    ev = school.events
    yield ev.calendar(school.term_starts, school.term_starts + timedelta(weeks=school.weeks + 8))
    subject_ids = [new_id() for _ in SUBJECTS]
    yield from (ev.subject(s, name) for s, name in zip(subject_ids, SUBJECTS, strict=True))
    teachers = [new_id() for _ in range(len(SUBJECTS) * 4)]
    yield from (ev.person(t, "staff", f"Учитель{i}", "Анна") for i, t in enumerate(teachers))
    class_ids = [new_id() for _ in range(classes)]
    for number, class_id in enumerate(class_ids):
        yield ev.school_class(
            class_id, f"{5 + number // 8}{'АБВГДЕЖЗ'[number % 8]}", teachers[number % len(teachers)]
        )
    for index in range(students):
        pupil = Pupil(new_id(), new_id(), class_ids[index % classes])
        school.pupils.append(pupil)
        yield ev.guardian_linked(pupil.guardian_id, pupil.student_id)
        yield ev.agreement(pupil.guardian_id, pupil.student_id)
        yield ev.enrol(pupil.student_id, pupil.class_id, school.term_starts)
        yield ev.person(pupil.student_id, "student", f"Ученик{index}", "Иван")
    by_class: dict[str, list[Pupil]] = {}
    for pupil in school.pupils:
        by_class.setdefault(pupil.class_id, []).append(pupil)
    for week in range(school.weeks):
        for weekday in range(5):
            day = school.term_starts + timedelta(weeks=week, days=weekday)
            for class_number, class_id in enumerate(class_ids):
                for slot in range(1, LESSONS_PER_DAY + 1):
                    subject = (class_number + weekday * LESSONS_PER_DAY + slot) % len(SUBJECTS)
                    teacher = teachers[subject * 4 + class_number % 4]
                    lesson = ev.lesson(
                        new_id(),
                        class_id,
                        subject_ids[subject],
                        teacher,
                        day=day,
                        slot=slot,
                        topic=f"Тема {week + 1}.{slot}",
                        homework=f"§ {week + slot}",
                    )
                    school.lessons.append(lesson)
                    yield lesson
                    yield from _marks_of(ev, lesson, by_class[class_id], rng)


def _marks_of(
    ev: SchoolEvents, lesson: Event, pupils: list[Pupil], rng: random.Random
) -> Iterator[Event]:
    for pupil in rng.sample(pupils, 3):
        work_type, weight = rng.choice(WORK_TYPES)
        yield ev.mark(
            pupil.student_id,
            lesson,
            rng.choice((2, 3, 4, 4, 5, 5)),
            weight=weight,
            work_type=work_type,
        )
    if rng.random() < 0.3:
        yield ev.attendance(
            rng.choice(pupils).student_id, lesson, "absent", rng.choice(("illness", "excused"))
        )
