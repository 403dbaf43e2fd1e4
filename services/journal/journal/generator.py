"""A realistic school year, generated and written in bulk (`journal-generate`).

A school of `students` (1,000 by default: 40 classes of 25, 60 teachers, 15 subjects)
with a full year 2025/2026: quarters and holidays, a weekly timetable of six lessons a
day, every lesson of the year with topic and (mostly) homework, attendance of every
student at every lesson, about a million marks of four weighted work types, and final
marks of the first three quarters (the fourth and the year are left open, as in May).

Seeded: the same seed and size give the same school, ids included (so one database holds
one school per seed). Rows go in with
PostgreSQL's COPY, not through the API: the year is an import, so it has no audit-chain
entries and sends no events (the diary's own bench feeds it events). Names are Faker's
ru_RU, returned for a demo to give identity; the journal itself stores only ids.

    journal-generate --database-url postgresql://… --students 1000 --seed 7
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import psycopg
from faker import Faker

from journal.audit import GENESIS
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings

YEAR_NAME, YEAR_STARTS, YEAR_ENDS = "2025/2026", date(2025, 9, 1), date(2026, 5, 29)
QUARTERS = (
    ("1 четверть", date(2025, 9, 1), date(2025, 10, 24)),
    ("2 четверть", date(2025, 11, 5), date(2025, 12, 26)),
    ("3 четверть", date(2026, 1, 12), date(2026, 3, 20)),
    ("4 четверть", date(2026, 3, 30), date(2026, 5, 29)),
)
HOLIDAYS = (
    ("Осенние каникулы", date(2025, 10, 25), date(2025, 11, 4)),
    ("Зимние каникулы", date(2025, 12, 27), date(2026, 1, 11)),
    ("День защитника Отечества", date(2026, 2, 23), date(2026, 2, 23)),
    ("Международный женский день", date(2026, 3, 9), date(2026, 3, 9)),
    ("Весенние каникулы", date(2026, 3, 21), date(2026, 3, 29)),
    ("Праздник Весны и Труда", date(2026, 5, 1), date(2026, 5, 1)),
    ("День Победы", date(2026, 5, 11), date(2026, 5, 11)),
)
# Fifteen subjects and their hours a week: thirty, six lessons on each of five days.
SUBJECTS = (
    ("Русский язык", "Рус. яз.", 4),
    ("Литература", "Лит.", 3),
    ("Математика", "Матем.", 4),
    ("Английский язык", "Англ. яз.", 3),
    ("История", "Ист.", 2),
    ("Обществознание", "Общ.", 1),
    ("География", "Геогр.", 2),
    ("Биология", "Биол.", 2),
    ("Физика", "Физ.", 2),
    ("Химия", "Хим.", 1),
    ("Информатика", "Информ.", 1),
    ("Физическая культура", "Физ-ра", 2),
    ("Музыка", "Муз.", 1),
    ("Изобразительное искусство", "ИЗО", 1),
    ("Технология", "Техн.", 1),
)
# (code, name, weight, control): the control test weighs twice an answer.
WORK_TYPES = (
    ("answer", "Ответ на уроке", 1.0, False),
    ("homework", "Домашняя работа", 1.0, False),
    ("independent", "Самостоятельная работа", 1.5, False),
    ("control", "Контрольная работа", 2.0, True),
)
LESSONS_A_DAY, CLASS_SIZE, LETTERS = 6, 25, "АБВГДЕЖИКЛ"
BELLS = (clock(8, 30), clock(9, 25), clock(10, 30), clock(11, 35), clock(12, 40), clock(13, 35))
ABSENCE_REASONS = ("illness", "illness", "illness", "excused", "unexcused", "school_activity")
CONTROL_EVERY = 8  # every eighth lesson of a subject in a class is a control test


@dataclass(frozen=True)
class Size:
    students: int = 1000
    classes: int = 40
    teachers: int = 60

    @classmethod
    def for_students(cls, students: int) -> Size:
        """Classes of 25 and a teacher for every 17 students, as in the full school."""
        classes = max(1, round(students / CLASS_SIZE))
        return cls(students, classes, max(len(SUBJECTS), round(students * 0.06)))


@dataclass
class GeneratedSchool:
    school_id: str
    year_id: str
    period_ids: dict[str, str]
    subject_ids: dict[str, str]
    work_type_ids: dict[str, str]
    class_ids: list[str]
    students_by_class: dict[str, list[str]]
    teacher_ids: list[str]
    class_teachers: dict[str, str]
    load: dict[tuple[str, str], str]  # (class, subject) -> teacher
    names: dict[str, str]  # person id -> full name, for identity and the demo
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Ids:
    """Repeatable UUIDs from the seeded random source."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def new(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def generate(
    database_url: str, size: Size | None = None, seed: int = 7, school_id: str | None = None
) -> GeneratedSchool:
    """Build the school in the (migrated) journal database at `database_url`."""
    size = size or Size()
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - repeatable sample data, not secrets
    ids = Ids(rng)
    fake = Faker("ru_RU")
    fake.seed_instance(seed)
    school = _plan(size, ids, fake, school_id or ids.new())
    with psycopg.connect(_libpq_url(database_url)) as connection:
        writer = Writer(connection, school.counts)
        _write_year(writer, school, ids)
        _write_roster(writer, school, ids)
        lessons = list(_lessons(school, ids, rng, fake))
        writer.copy("lessons", LESSON_COLUMNS, (lesson.row for lesson in lessons))
        writer.copy("homework", HOMEWORK_COLUMNS, _homework(lessons, ids, rng, fake))
        averages = _write_marks_and_attendance(writer, school, lessons, ids, rng)
        _write_finals(writer, school, averages, ids)
        connection.commit()
        connection.execute("ANALYZE")
    school.seconds = time.perf_counter() - started
    return school


class Writer:
    def __init__(self, connection: psycopg.Connection[Any], counts: dict[str, int]) -> None:
        self._connection, self._counts = connection, counts

    def copy(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
        names = ", ".join(f'"{column}"' for column in columns)
        written = 0
        with (
            self._connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                written += 1
        self._counts[table] = self._counts.get(table, 0) + written


def _plan(size: Size, ids: Ids, fake: Faker, school_id: str) -> GeneratedSchool:
    teachers = [ids.new() for _ in range(size.teachers)]
    classes = [ids.new() for _ in range(size.classes)]
    subjects = {name: ids.new() for name, _, _ in SUBJECTS}
    students_by_class: dict[str, list[str]] = {class_id: [] for class_id in classes}
    for number in range(size.students):
        students_by_class[classes[number % len(classes)]].append(ids.new())
    names = {person: fake.name() for person in teachers}
    for students in students_by_class.values():
        names.update((student, fake.name()) for student in students)
    return GeneratedSchool(
        school_id=school_id,
        year_id=ids.new(),
        period_ids={name: ids.new() for name, _, _ in QUARTERS} | {"Год": ids.new()},
        subject_ids=subjects,
        work_type_ids={code: ids.new() for code, *_ in WORK_TYPES},
        class_ids=classes,
        students_by_class=students_by_class,
        teacher_ids=teachers,
        class_teachers={c: teachers[i % len(teachers)] for i, c in enumerate(classes)},
        load=_teaching_load(classes, list(subjects.values()), teachers),
        names=names,
    )


def _teaching_load(
    classes: list[str], subjects: list[str], teachers: list[str]
) -> dict[tuple[str, str], str]:
    # Each subject has its own teachers (a share of the staff by its hours), and each of
    # them takes the subject's classes in turn.
    hours = [hours for _, _, hours in SUBJECTS]
    shares = [max(1, round(len(teachers) * h / sum(hours))) for h in hours]
    load, next_teacher = {}, 0
    for subject, share in zip(subjects, shares, strict=True):
        staff = [teachers[(next_teacher + n) % len(teachers)] for n in range(share)]
        next_teacher += share
        for number, class_id in enumerate(classes):
            load[(class_id, subject)] = staff[number % len(staff)]
    return load


def _write_year(writer: Writer, school: GeneratedSchool, ids: Ids) -> None:
    s = school.school_id
    writer.copy(
        "years",
        ("year_id", "school_id", "name", "starts_on", "ends_on", "calendar_version", "created_at"),
        [(school.year_id, s, YEAR_NAME, YEAR_STARTS, YEAR_ENDS, 1, datetime.now(UTC))],
    )
    periods = [(name, "quarter", starts, ends) for name, starts, ends in QUARTERS]
    periods.append(("Год", "year", YEAR_STARTS, YEAR_ENDS))
    writer.copy(
        "periods",
        ("period_id", "school_id", "year_id", "kind", "name", "starts_on", "ends_on"),
        [(school.period_ids[n], s, school.year_id, k, n, a, b) for n, k, a, b in periods],
    )
    writer.copy(
        "holidays",
        ("holiday_id", "school_id", "year_id", "name", "starts_on", "ends_on"),
        [(ids.new(), s, school.year_id, name, a, b) for name, a, b in HOLIDAYS],
    )
    writer.copy(
        "subjects",
        ("subject_id", "school_id", "name", "short_name", "removed", "version"),
        [(school.subject_ids[n], s, n, short, False, 1) for n, short, _ in SUBJECTS],
    )
    # The chain's head, as the first change through the API would write it: with the head
    # in place, the first writers after an import queue on its lock instead of racing to
    # create it.
    writer.copy("audit_heads", ("school_id", "seq", "hash"), [(s, 0, GENESIS)])
    writer.copy(
        "work_types",
        ("work_type_id", "school_id", "code", "name", "weight", "scale", "control"),
        [
            (school.work_type_ids[code], s, code, name, weight, "five_point", control)
            for code, name, weight, control in WORK_TYPES
        ],
    )


def _write_roster(writer: Writer, school: GeneratedSchool, ids: Ids) -> None:
    s, grades = school.school_id, _grades(len(school.class_ids))
    writer.copy(
        "classes",
        ("class_id", "school_id", "year_id", "name", "grade", "class_teacher_id", "version"),
        [
            (class_id, s, school.year_id, name, grade, school.class_teachers[class_id], 1)
            for class_id, (grade, name) in zip(school.class_ids, grades, strict=True)
        ],
    )
    hours = {school.subject_ids[name]: h for name, _, h in SUBJECTS}
    writer.copy(
        "assignments",
        ("assignment_id", "school_id", "teacher_id", "subject_id", "class_id", "hours_per_week"),
        [(ids.new(), s, t, subj, c, hours[subj]) for (c, subj), t in school.load.items()],
    )
    enrolments = [
        (ids.new(), s, student, class_id, False, YEAR_STARTS, 1)
        for class_id, students in school.students_by_class.items()
        for student in students
    ]
    writer.copy(
        "enrolments",
        (
            "enrolment_id",
            "school_id",
            "student_id",
            "class_id",
            "individual_plan",
            "enrolled_on",
            "version",
        ),
        enrolments,
    )
    by = school.class_teachers[school.class_ids[0]]
    at = datetime.combine(YEAR_STARTS, clock(8), UTC)
    writer.copy(
        "enrolment_moves",
        ("move_id", "enrolment_id", "kind", "to_class_id", "on", "by", "at"),
        [(ids.new(), e[0], "enrolled", e[3], YEAR_STARTS, by, at) for e in enrolments],
    )


def _grades(classes: int) -> list[tuple[int, str]]:
    """Classes spread over grades 1 to 11, lettered А, Б, В… within a grade."""
    grades = [1 + (number * 11) // classes for number in range(classes)]
    seen: dict[int, int] = defaultdict(int)
    named = []
    for grade in grades:
        named.append((grade, f"{grade}{LETTERS[seen[grade] % len(LETTERS)]}"))
        seen[grade] += 1
    return named


@dataclass(frozen=True)
class PlannedLesson:
    row: tuple[Any, ...]
    lesson_id: str
    class_id: str
    subject_id: str
    teacher_id: str
    period_id: str
    day: date
    control: bool


LESSON_COLUMNS = (
    "lesson_id",
    "school_id",
    "class_id",
    "subject_id",
    "teacher_id",
    "period_id",
    "date",
    "slot",
    "starts_at",
    "ends_at",
    "status",
    "topic",
    "version",
)


def _lessons(
    school: GeneratedSchool, ids: Ids, rng: random.Random, fake: Faker
) -> Iterator[PlannedLesson]:
    topics = [fake.sentence(nb_words=4).rstrip(".") for _ in range(400)]
    held: dict[tuple[str, str], int] = defaultdict(int)
    for class_id in school.class_ids:
        week = _weekly_template(school, rng)
        for day, period_id in _study_days(school):
            for slot, subject_id in enumerate(week[day.weekday()], start=1):
                held[(class_id, subject_id)] += 1
                lesson_id = ids.new()
                starts = datetime.combine(day, BELLS[slot - 1], UTC) - timedelta(hours=3)
                # One lesson in forty goes without a topic: the control checks find it.
                topic = None if rng.random() < 0.025 else rng.choice(topics)
                teacher = school.load[(class_id, subject_id)]
                yield PlannedLesson(
                    row=(
                        lesson_id,
                        school.school_id,
                        class_id,
                        subject_id,
                        teacher,
                        period_id,
                        day,
                        slot,
                        starts,
                        starts + timedelta(minutes=45),
                        "scheduled",
                        topic,
                        1,
                    ),
                    lesson_id=lesson_id,
                    class_id=class_id,
                    subject_id=subject_id,
                    teacher_id=teacher,
                    period_id=period_id,
                    day=day,
                    control=held[(class_id, subject_id)] % CONTROL_EVERY == 0,
                )


def _weekly_template(school: GeneratedSchool, rng: random.Random) -> list[list[str]]:
    """Thirty lessons a week: each subject as many times as its hours, shuffled per class."""
    week = [school.subject_ids[name] for name, _, hours in SUBJECTS for _ in range(hours)]
    rng.shuffle(week)
    return [week[day * LESSONS_A_DAY : (day + 1) * LESSONS_A_DAY] for day in range(5)]


def _study_days(school: GeneratedSchool) -> Iterator[tuple[date, str]]:
    holidays = {a + timedelta(n) for _, a, b in HOLIDAYS for n in range((b - a).days + 1)}
    for name, starts, ends in QUARTERS:
        for n in range((ends - starts).days + 1):
            day = starts + timedelta(n)
            if day.weekday() < 5 and day not in holidays:
                yield day, school.period_ids[name]


HOMEWORK_COLUMNS = (
    "homework_id",
    "school_id",
    "lesson_id",
    "teacher_id",
    "text",
    "due_on",
    "assigned_at",
    "version",
)


def _homework(
    lessons: list[PlannedLesson], ids: Ids, rng: random.Random, fake: Faker
) -> Iterator[tuple[Any, ...]]:
    texts = [f"§ {n}, упр. {n * 3 % 40 + 1}; {fake.sentence(nb_words=3)}" for n in range(1, 200)]
    for lesson in lessons:
        if rng.random() < 0.8:  # not every lesson sets homework
            assigned = datetime.combine(lesson.day, clock(12), UTC)
            due = lesson.day + timedelta(days=2 if lesson.day.weekday() < 3 else 4)
            yield (
                ids.new(),
                lesson.row[1],
                lesson.lesson_id,
                lesson.teacher_id,
                rng.choice(texts),
                due,
                assigned,
                1,
            )


MARK_COLUMNS = (
    "mark_id",
    "school_id",
    "lesson_id",
    "student_id",
    "work_type_id",
    "value",
    "comment",
    "teacher_id",
    "recorded_at",
    "version",
)
ATTENDANCE_COLUMNS = (
    "attendance_id",
    "school_id",
    "lesson_id",
    "student_id",
    "status",
    "reason",
    "recorded_by",
    "recorded_at",
    "version",
)
Averages = dict[tuple[str, str, str], list[float]]  # (student, subject, period) -> [Σsw, Σw]


def _write_marks_and_attendance(
    writer: Writer,
    school: GeneratedSchool,
    lessons: list[PlannedLesson],
    ids: Ids,
    rng: random.Random,
) -> Averages:
    averages: Averages = defaultdict(lambda: [0.0, 0.0])
    ability = {s: rng.gauss(3.9, 0.5) for ss in school.students_by_class.values() for s in ss}
    # Two passes, so neither a million attendance rows nor a million marks sit in memory:
    # the first writes attendance and remembers only who was absent.
    absent: set[tuple[str, str]] = set()

    def attendance() -> Iterator[tuple[Any, ...]]:
        for lesson in lessons:
            for student in school.students_by_class[lesson.class_id]:
                status = _attendance_status(rng)
                if status == "absent":
                    absent.add((lesson.lesson_id, student))
                yield _attendance_row(school, lesson, student, status=status, ids=ids, rng=rng)

    def marks() -> Iterator[tuple[Any, ...]]:
        for lesson in lessons:
            for student in school.students_by_class[lesson.class_id]:
                if (lesson.lesson_id, student) not in absent:
                    yield from _marks_of(
                        school,
                        lesson,
                        student,
                        ability=ability[student],
                        averages=averages,
                        ids=ids,
                        rng=rng,
                    )

    writer.copy("attendance", ATTENDANCE_COLUMNS, attendance())
    writer.copy("marks", MARK_COLUMNS, marks())
    return averages


def _attendance_status(rng: random.Random) -> str:
    draw = rng.random()
    return "absent" if draw < 0.06 else "late" if draw < 0.09 else "present"


def _attendance_row(
    school: GeneratedSchool,
    lesson: PlannedLesson,
    student: str,
    *,
    status: str,
    ids: Ids,
    rng: random.Random,
) -> tuple[Any, ...]:
    reason = rng.choice(ABSENCE_REASONS) if status == "absent" else None
    recorded = datetime.combine(lesson.day, BELLS[lesson.row[7] - 1], UTC)
    return (
        ids.new(),
        school.school_id,
        lesson.lesson_id,
        student,
        status,
        reason,
        lesson.teacher_id,
        recorded,
        1,
    )


def _marks_of(
    school: GeneratedSchool,
    lesson: PlannedLesson,
    student: str,
    *,
    ability: float,
    averages: Averages,
    ids: Ids,
    rng: random.Random,
) -> Iterator[tuple[Any, ...]]:
    kinds = ["control"] if lesson.control else _ordinary_marks(rng)
    for code in kinds:
        value = min(5, max(2, round(rng.gauss(ability, 0.8))))
        weight = next(w for c, _, w, _ in WORK_TYPES if c == code)
        totals = averages[(student, lesson.subject_id, lesson.period_id)]
        totals[0] += value * weight
        totals[1] += weight
        # Most marks go in the same day; one in twenty days later (compliance sees it).
        delay = timedelta(days=rng.randint(2, 6)) if rng.random() < 0.05 else timedelta(hours=1)
        recorded = datetime.combine(lesson.day, BELLS[lesson.row[7] - 1], UTC) + delay
        yield (
            ids.new(),
            school.school_id,
            lesson.lesson_id,
            student,
            school.work_type_ids[code],
            str(value),
            None,
            lesson.teacher_id,
            recorded,
            1,
        )


def _ordinary_marks(rng: random.Random) -> list[str]:
    # About one mark per student and lesson in all: the «about a million» of a year.
    draw = rng.random()
    if draw < 0.08:
        return []
    if draw < 0.80:
        return ["answer"]
    if draw < 0.92:
        return ["answer", "homework"]
    return ["independent"]


FINALIZATION_COLUMNS = (
    "finalization_id",
    "school_id",
    "period_id",
    "class_id",
    "subject_id",
    "scale",
    "finalized_by",
    "finalized_at",
    "version",
)


def _write_finals(writer: Writer, school: GeneratedSchool, averages: Averages, ids: Ids) -> None:
    """Final marks of the first three quarters: the rounded weighted average."""
    closed = {school.period_ids[name] for name, _, _ in QUARTERS[:3]}
    finalizations: dict[tuple[str, str, str], str] = {}
    final_marks = []
    class_of = {s: c for c, ss in school.students_by_class.items() for s in ss}
    for (student, subject, period), (weighted, weights) in averages.items():
        if period not in closed or not weights:
            continue
        key = (period, class_of[student], subject)
        finalization = finalizations.setdefault(key, ids.new())
        final_marks.append((finalization, student, str(round(weighted / weights))))
    at = datetime.combine(YEAR_ENDS, clock(12), UTC)
    writer.copy(
        "finalizations",
        FINALIZATION_COLUMNS,
        [
            (f, school.school_id, p, c, subj, "five_point", school.load[(c, subj)], at, 1)
            for (p, c, subj), f in finalizations.items()
        ],
    )
    writer.copy("final_marks", ("finalization_id", "student_id", "value"), final_marks)


def _libpq_url(database_url: str) -> str:
    # COPY is PostgreSQL's; the SQLite of a local run has no bulk path worth a year.
    if not database_url.startswith(("postgresql://", "postgresql+psycopg://")):
        raise ValueError("The generator writes to PostgreSQL only (a postgresql:// URL).")
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="journal-generate", description=__doc__)
    parser.add_argument("--database-url", help="defaults to the journal's configured database")
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--school-id", help="the school's id (identity's); random otherwise")
    arguments = parser.parse_args(argv)
    url = arguments.database_url or Settings.from_env("journal").database_url
    upgrade("journal", url)
    school = generate(
        url, Size.for_students(arguments.students), arguments.seed, arguments.school_id
    )
    counts = ", ".join(f"{table} {count}" for table, count in school.counts.items())
    sys.stdout.write(f"school {school.school_id}: {counts} in {school.seconds:.1f} s\n")
    return 0
