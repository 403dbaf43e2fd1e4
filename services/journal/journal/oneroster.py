"""The journal as a OneRoster 1.2 CSV bundle (R-JRN-14, R-EXC-1); oneroster_import reads one.

Mapping (both ways):
- orgs: the school; academicSessions: the years (schoolYear) and their periods
  (gradingPeriod, parent = the year);
- courses: the subjects, plus one `homeroom` course for the classes themselves;
- classes: each journal class is a `homeroom` class (title = its name, grades = its
  grade); each subject taught in it is a `scheduled` class whose classCode is the
  journal class's name and whose course is the subject;
- users: students and teachers by identity's person id (the journal keeps no names);
- enrollments: a student in their homeroom and its scheduled classes; a teacher in the
  scheduled classes of their load (primary) and the class teacher in the homeroom;
- lineItems: each lesson × work type that has marks; results: the marks.
Only what the journal stores is filled; the other columns of the standard stay empty.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journal.models import (
    Assignment,
    Enrolment,
    Lesson,
    Mark,
    Period,
    SchoolClass,
    Subject,
    WorkType,
    Year,
)
from journal.scales import scale_marks

HOMEROOM = "homeroom"
BATCH = 5000

HEADERS: dict[str, list[str]] = {
    "orgs.csv": [
        "sourcedId",
        "status",
        "dateLastModified",
        "name",
        "type",
        "identifier",
        "parentSourcedId",
    ],
    "academicSessions.csv": [
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "type",
        "startDate",
        "endDate",
        "parentSourcedId",
        "schoolYear",
    ],
    "courses.csv": [
        "sourcedId",
        "status",
        "dateLastModified",
        "schoolYearSourcedId",
        "title",
        "courseCode",
        "grades",
        "orgSourcedId",
        "subjects",
        "subjectCodes",
    ],
    "classes.csv": [
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "grades",
        "courseSourcedId",
        "classCode",
        "classType",
        "location",
        "schoolSourcedId",
        "termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
    ],
    "users.csv": [
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ],
    "enrollments.csv": [
        "sourcedId",
        "status",
        "dateLastModified",
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
        "beginDate",
        "endDate",
    ],
    "lineItems.csv": [
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "description",
        "assignDate",
        "dueDate",
        "classSourcedId",
        "categorySourcedId",
        "gradingPeriodSourcedId",
        "resultValueMin",
        "resultValueMax",
    ],
    "results.csv": [
        "sourcedId",
        "status",
        "dateLastModified",
        "lineItemSourcedId",
        "studentSourcedId",
        "scoreStatus",
        "score",
        "scoreDate",
        "comment",
    ],
}
ABSENT_FILES = [
    "categories",
    "classResources",
    "courseResources",
    "demographics",
    "lineItemLearningObjectiveIds",
    "lineItemScoreScales",
    "resources",
    "resultLearningObjectiveIds",
    "resultScoreScales",
    "roles",
    "scoreScales",
    "userProfiles",
    "userResources",
]


@dataclass(frozen=True)
class Bundle:
    session: Session
    school_id: str
    modified: str

    def rows(self, name: str) -> Iterable[dict[str, Any]]:
        return BUILDERS[name](self)


def export_bundle(session: Session, school_id: str) -> bytes:
    bundle = Bundle(session, school_id, _now())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.csv", _manifest())
        for name, header in HEADERS.items():
            with archive.open(name, "w") as member:
                text = io.TextIOWrapper(member, encoding="utf-8", newline="")
                writer = csv.DictWriter(text, fieldnames=header, extrasaction="raise")
                writer.writeheader()
                for row in bundle.rows(name):
                    writer.writerow(
                        {"status": "active", "dateLastModified": bundle.modified, **row}
                    )
                text.flush()
                text.detach()
    return buffer.getvalue()


def _manifest() -> str:
    lines = [("propertyName", "value"), ("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    files = {name.removesuffix(".csv") for name in HEADERS}
    lines += [(f"file.{name}", "bulk") for name in sorted(files)]
    lines += [(f"file.{name}", "absent") for name in ABSENT_FILES]
    lines += [("source.systemName", "school platform journal"), ("source.systemCode", "journal")]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue()


def _orgs(bundle: Bundle) -> Iterator[dict[str, Any]]:
    yield {
        "sourcedId": bundle.school_id,
        "name": bundle.school_id,
        "type": "school",
        "identifier": bundle.school_id,
    }


def _sessions(bundle: Bundle) -> Iterator[dict[str, Any]]:
    years = bundle.session.scalars(select(Year).where(Year.school_id == bundle.school_id))
    for year in years:
        yield {
            "sourcedId": year.year_id,
            "title": year.name,
            "type": "schoolYear",
            "startDate": year.starts_on.isoformat(),
            "endDate": year.ends_on.isoformat(),
            "schoolYear": str(year.ends_on.year),
        }
    periods = bundle.session.execute(
        select(Period, Year.ends_on)
        .join(Year, Year.year_id == Period.year_id)
        .where(Period.school_id == bundle.school_id)
    )
    for period, year_ends in periods:
        yield {
            "sourcedId": period.period_id,
            "title": period.name,
            "type": "gradingPeriod",
            "startDate": period.starts_on.isoformat(),
            "endDate": period.ends_on.isoformat(),
            "parentSourcedId": period.year_id,
            "schoolYear": str(year_ends.year),
        }


def _courses(bundle: Bundle) -> Iterator[dict[str, Any]]:
    yield {"sourcedId": HOMEROOM, "title": "Класс", "orgSourcedId": bundle.school_id}
    subjects = bundle.session.scalars(
        select(Subject).where(Subject.school_id == bundle.school_id, Subject.removed.is_(False))
    )
    for subject in subjects:
        yield {
            "sourcedId": subject.subject_id,
            "title": subject.name,
            "courseCode": subject.short_name or "",
            "orgSourcedId": bundle.school_id,
            "subjects": subject.name,
        }


def _classes(bundle: Bundle) -> Iterator[dict[str, Any]]:
    classes = bundle.session.scalars(
        select(SchoolClass).where(SchoolClass.school_id == bundle.school_id)
    ).all()
    names = {c.class_id: c for c in classes}
    for school_class in classes:
        yield {
            **_class_common(bundle, school_class),
            "sourcedId": school_class.class_id,
            "title": school_class.name,
            "courseSourcedId": HOMEROOM,
            "classType": HOMEROOM,
        }
    pairs = bundle.session.execute(
        select(Assignment.class_id, Assignment.subject_id, Subject.name)
        .join(Subject, Subject.subject_id == Assignment.subject_id)
        .where(Assignment.school_id == bundle.school_id)
        .distinct()
    )
    for class_id, subject_id, subject_name in pairs:
        school_class = names[class_id]
        yield {
            **_class_common(bundle, school_class),
            "sourcedId": _section(class_id, subject_id),
            "title": f"{school_class.name} {subject_name}",
            "courseSourcedId": subject_id,
            "classType": "scheduled",
            "subjects": subject_name,
        }


def _class_common(bundle: Bundle, school_class: SchoolClass) -> dict[str, Any]:
    return {
        "grades": f"{school_class.grade:02d}",
        "classCode": school_class.name,
        "schoolSourcedId": bundle.school_id,
        "termSourcedIds": school_class.year_id,
    }


def _users(bundle: Bundle) -> Iterator[dict[str, Any]]:
    school = bundle.school_id
    students = select(Enrolment.student_id).where(
        Enrolment.school_id == school, Enrolment.left_on.is_(None)
    )
    teachers = select(Assignment.teacher_id).where(Assignment.school_id == school)
    class_teachers = select(SchoolClass.class_teacher_id).where(
        SchoolClass.school_id == school, SchoolClass.class_teacher_id.is_not(None)
    )
    people = bundle.session.scalars(students.union(teachers, class_teachers))
    for person_id in sorted(people):
        yield {
            "sourcedId": person_id,
            "enabledUser": "true",
            "username": person_id,
            "identifier": person_id,
            "primaryOrgSourcedId": school,
        }


def _enrollments(bundle: Bundle) -> Iterator[dict[str, Any]]:
    school = bundle.school_id
    sections: dict[str, list[str]] = {}
    for class_id, subject_id, teacher_id in bundle.session.execute(
        select(Assignment.class_id, Assignment.subject_id, Assignment.teacher_id).where(
            Assignment.school_id == school
        )
    ):
        section = _section(class_id, subject_id)
        if section not in sections.setdefault(class_id, []):
            sections[class_id].append(section)
        yield _enrollment(school, section, teacher_id, "teacher", primary=True)
    for class_id, teacher_id in bundle.session.execute(
        select(SchoolClass.class_id, SchoolClass.class_teacher_id).where(
            SchoolClass.school_id == school, SchoolClass.class_teacher_id.is_not(None)
        )
    ):
        yield _enrollment(school, class_id, teacher_id, "teacher", primary=True)
    for enrolment in bundle.session.scalars(
        select(Enrolment).where(Enrolment.school_id == school, Enrolment.left_on.is_(None))
    ):
        begins = enrolment.enrolled_on.isoformat()
        for class_sourced_id in (enrolment.class_id, *sections.get(enrolment.class_id, [])):
            row = _enrollment(school, class_sourced_id, enrolment.student_id, "student")
            yield {**row, "beginDate": begins}


def _enrollment(
    school: str, class_sourced_id: str, user: str, role: str, *, primary: bool = False
) -> dict[str, Any]:
    return {
        "sourcedId": f"{class_sourced_id}:{user}",
        "classSourcedId": class_sourced_id,
        "schoolSourcedId": school,
        "userSourcedId": user,
        "role": role,
        "primary": "true" if primary else "false",
    }


def _line_items(bundle: Bundle) -> Iterator[dict[str, Any]]:
    query = (
        select(
            Lesson.lesson_id,
            Lesson.date,
            Lesson.class_id,
            Lesson.subject_id,
            Lesson.period_id,
            WorkType.work_type_id,
            WorkType.name,
            WorkType.code,
            WorkType.scale,
        )
        .join(Mark, Mark.lesson_id == Lesson.lesson_id)
        .join(WorkType, WorkType.work_type_id == Mark.work_type_id)
        .where(Lesson.school_id == bundle.school_id)
        .group_by(
            Lesson.lesson_id,
            Lesson.date,
            Lesson.class_id,
            Lesson.subject_id,
            Lesson.period_id,
            WorkType.work_type_id,
            WorkType.name,
            WorkType.code,
            WorkType.scale,
        )
        .order_by(Lesson.date, func.min(Mark.mark_id))
    )
    ranges: dict[str, tuple[str, str]] = {}
    for row in bundle.session.execute(query.execution_options(yield_per=BATCH)):
        if row.scale not in ranges:
            ranges[row.scale] = _score_range(bundle, row.scale)
        low, high = ranges[row.scale]
        yield {
            "sourcedId": _line_item(row.lesson_id, row.work_type_id),
            "title": f"{row.name}, {row.date.isoformat()}",
            "description": row.code,
            "assignDate": row.date.isoformat(),
            "dueDate": row.date.isoformat(),
            "classSourcedId": _section(row.class_id, row.subject_id),
            "gradingPeriodSourcedId": row.period_id,
            "resultValueMin": low,
            "resultValueMax": high,
        }


def _results(bundle: Bundle) -> Iterator[dict[str, Any]]:
    query = select(
        Mark.mark_id,
        Mark.lesson_id,
        Mark.work_type_id,
        Mark.student_id,
        Mark.value,
        Mark.recorded_at,
        Mark.comment,
    ).where(Mark.school_id == bundle.school_id)
    for row in bundle.session.execute(query.execution_options(yield_per=BATCH)):
        yield {
            "sourcedId": row.mark_id,
            "lineItemSourcedId": _line_item(row.lesson_id, row.work_type_id),
            "studentSourcedId": row.student_id,
            "scoreStatus": "fully graded",
            "score": row.value,
            "scoreDate": row.recorded_at.date().isoformat(),
            "comment": row.comment or "",
        }


def _score_range(bundle: Bundle, scale: str) -> tuple[str, str]:
    scores = [
        m["score"] for m in scale_marks(bundle.session, bundle.school_id, scale) if m.get("score")
    ]
    return (str(min(scores)), str(max(scores))) if scores else ("", "")


BUILDERS = {
    "orgs.csv": _orgs,
    "academicSessions.csv": _sessions,
    "courses.csv": _courses,
    "classes.csv": _classes,
    "users.csv": _users,
    "enrollments.csv": _enrollments,
    "lineItems.csv": _line_items,
    "results.csv": _results,
}


def _section(class_id: str, subject_id: str) -> str:
    return f"{class_id}:{subject_id}"


def _line_item(lesson_id: str, work_type_id: str) -> str:
    return f"{lesson_id}:{work_type_id}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
