"""Import of rosters, staff and subjects (R-JRN-14, R-EXC-1), all rows or none.

Each row is applied by the same domain functions the API uses (journal.roster,
journal.contingent), so an import publishes the same events as the same changes made
one by one. Each row runs in a savepoint: a bad row is rolled back and reported (row,
column, problem) while the others go on, so one pass finds every problem. At the end the
whole transaction is rolled back when it was a dry run or any row was bad; otherwise it
commits. A dry run therefore checks against exactly what a real run would do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from journal import contingent, roster
from journal.models import Assignment, SchoolClass, Subject
from journal.school_year import year_of
from schoolkit import tombstones
from schoolkit.auth import Principal
from schoolkit.errors import ApiError, flatten_messages
from schoolkit.uploads import Row

CREATED, UNCHANGED = "created", "unchanged"


class SubjectRow(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 120))
    short_name = fields.String(load_default=None, validate=validate.Length(1, 40))


class StaffRow(Schema):
    teacher_id = fields.UUID(required=True)
    subject = fields.String(required=True, validate=validate.Length(1, 120))
    class_name = fields.String(required=True, validate=validate.Length(1, 20))
    hours_per_week = fields.Integer(load_default=None, validate=validate.Range(1, 40))


class RosterRow(Schema):
    class_name = fields.String(required=True, validate=validate.Length(1, 20))
    grade = fields.Integer(required=True, validate=validate.Range(0, 12))
    class_teacher_id = fields.UUID(load_default=None)
    student_id = fields.UUID(load_default=None)
    individual_plan = fields.Boolean(load_default=False)
    enrolled_on = fields.Date(load_default=None)


class RowRefused(Exception):
    def __init__(self, column: str | None, problem: str) -> None:
        super().__init__(problem)
        self.column, self.problem = column, problem


@dataclass
class ImportReport:
    dataset: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "dry_run": self.dry_run,
            "written": self.accepted and not self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }


@dataclass
class Importer:
    session: Session
    caller: Principal
    year_id: str | None = None

    @property
    def school_id(self) -> str:
        return self.caller.school_id

    def subject(self, fields_: dict[str, Any]) -> str:
        if _subject_named(self.session, self.school_id, fields_["name"]) is not None:
            return UNCHANGED
        roster.create_subject(self.session, self.caller, fields_)
        return CREATED

    def staff(self, fields_: dict[str, Any]) -> str:
        subject = _subject_named(self.session, self.school_id, fields_["subject"])
        if subject is None:
            raise RowRefused("subject", "No subject of that name: import subjects first.")
        school_class = self._class_named(fields_["class_name"])
        if school_class is None:
            raise RowRefused("class_name", "No class of that name in the year.")
        load = {
            "teacher_id": str(fields_["teacher_id"]),
            "subject_id": subject.subject_id,
            "class_id": school_class.class_id,
            "hours_per_week": fields_["hours_per_week"],
        }
        if _assigned(self.session, load):
            return UNCHANGED
        roster.assign_teacher(self.session, self.caller, load)
        self.session.flush()
        return CREATED

    def roster_row(self, fields_: dict[str, Any]) -> str:
        outcome, school_class = self._class_for(fields_)
        student_id = fields_["student_id"]
        if student_id is None:
            return outcome
        if fields_["enrolled_on"] is None:
            raise RowRefused("enrolled_on", "Required with a student.")
        if tombstones.is_erased(self.session, self.school_id, str(student_id)):
            # As the API answers for an erased student: unknown, nothing written.
            raise RowRefused("student_id", "No such student in this school.")
        current = contingent.current_enrolment(self.session, self.school_id, str(student_id))
        if current is not None and current.class_id == school_class.class_id:
            return outcome
        if current is not None:
            raise RowRefused("student_id", "Already in another class: transfer them instead.")
        enrolment = {
            "student_id": student_id,
            "individual_plan": fields_["individual_plan"],
            "on": fields_["enrolled_on"],
        }
        contingent.enrol(self.session, self.caller, school_class.class_id, enrolment)
        return CREATED

    def _class_for(self, fields_: dict[str, Any]) -> tuple[str, SchoolClass]:
        teacher = fields_["class_teacher_id"]
        school_class = self._class_named(fields_["class_name"])
        if school_class is None:
            created = roster.create_class(
                self.session,
                self.caller,
                {
                    "year_id": self.year(),
                    "name": fields_["class_name"],
                    "grade": fields_["grade"],
                    "class_teacher_id": teacher,
                },
            )
            return CREATED, created
        if school_class.grade != fields_["grade"]:
            raise RowRefused("grade", f"The class is in grade {school_class.grade}.")
        if teacher is not None and school_class.class_teacher_id != str(teacher):
            roster.change_class(
                self.session, self.caller, school_class.class_id, {"class_teacher_id": teacher}
            )
            return CREATED, school_class
        return UNCHANGED, school_class

    def year(self) -> str:
        if self.year_id is None:
            raise ApiError(422, "validation_failed", "Name the year.", {"year_id": "Required."})
        return year_of(self.session, self.school_id, self.year_id).year_id

    def _class_named(self, name: str) -> SchoolClass | None:
        query = select(SchoolClass).where(
            SchoolClass.school_id == self.school_id,
            SchoolClass.year_id == self.year(),
            SchoolClass.name == name,
        )
        return self.session.scalars(query).first()


@dataclass(frozen=True)
class Dataset:
    schema: type[Schema]
    required: set[str]
    apply: Callable[[Importer, dict[str, Any]], str]
    # Where a domain error's field shows in the file.
    columns: dict[str, str]


DATASETS: dict[str, Dataset] = {
    "subjects": Dataset(SubjectRow, {"name"}, Importer.subject, {"name": "name"}),
    "staff": Dataset(
        StaffRow,
        {"teacher_id", "subject", "class_name"},
        Importer.staff,
        {"subject_id": "subject", "class_id": "class_name"},
    ),
    "rosters": Dataset(
        RosterRow,
        {"class_name", "grade"},
        Importer.roster_row,
        {"class_id": "class_name", "student_id": "student_id", "name": "class_name"},
    ),
}


def run_import(
    session: Session,
    importer: Importer,
    batches: list[tuple[str, list[Row]]],
    *,
    dry_run: bool,
    known_errors: list[dict[str, Any]] | None = None,
) -> ImportReport:
    """Apply every batch (dataset, rows) in order; commit only a clean, real run."""
    report = ImportReport(dataset="+".join(name for name, _ in batches), dry_run=dry_run)
    report.errors.extend(known_errors or [])
    if importer.year_id is not None:
        importer.year()  # an unknown year is the caller's mistake, not a row's
    for name, rows in batches:
        dataset = DATASETS[name]
        for row in rows:
            _apply_row(session, importer, dataset, row, report)
    if dry_run or not report.accepted:
        session.rollback()
    else:
        session.commit()
    return report


def _apply_row(
    session: Session, importer: Importer, dataset: Dataset, row: Row, report: ImportReport
) -> None:
    report.rows += 1
    cells = {name: value for name, value in row.cells.items() if value != ""}
    try:
        fields_ = dataset.schema().load(cells, unknown="exclude")
        with session.begin_nested():
            outcome = dataset.apply(importer, fields_)
    except ValidationError as error:
        for column, problem in flatten_messages(error.normalized_messages()).items():
            report.errors.append(_problem(row, column, problem))
        return
    except RowRefused as refused:
        report.errors.append(_problem(row, refused.column, refused.problem))
        return
    except ApiError as error:
        column = next((dataset.columns.get(name, name) for name in error.fields), None)
        report.errors.append(_problem(row, column, error.message))
        return
    if outcome == CREATED:
        report.created += 1
    else:
        report.unchanged += 1


def _problem(row: Row, column: str | None, problem: str) -> dict[str, Any]:
    found: dict[str, Any] = {"row": row.number, "column": column, "problem": problem}
    if row.file is not None:
        found["file"] = row.file
    return found


def _subject_named(session: Session, school_id: str, name: str) -> Subject | None:
    query = select(Subject).where(
        Subject.school_id == school_id, Subject.name == name, Subject.removed.is_(False)
    )
    return session.scalars(query).first()


def _assigned(session: Session, load: dict[str, Any]) -> bool:
    query = select(Assignment.assignment_id).where(
        Assignment.teacher_id == load["teacher_id"],
        Assignment.subject_id == load["subject_id"],
        Assignment.class_id == load["class_id"],
    )
    return session.scalars(query).first() is not None
