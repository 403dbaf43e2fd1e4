"""Bulk import of people from CSV or XLSX (R-ROLE-1, issue 3 §6).

The file has a header row; columns may be named in English or Russian. Every row is
checked before anything is written, and the report names the row, the column and the
problem. A dry run only reports; a real run with any bad row writes nothing. Guardians
are linked to students of the same file by the `ref` column (`guardian_of`: refs
separated by `;`). Imports open no accounts: people get them through registration codes
or temporary passwords, so no password ever travels in a spreadsheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity import people
from identity.models import Person
from identity.schemas import PersonInSchema
from schoolkit.errors import ApiError
from schoolkit.uploads import Row, read_table

MAX_ROWS = 5000
COLUMNS = {
    "ref": ("ref", "номер", "№"),
    "kind": ("kind", "тип", "категория"),
    "last_name": ("last_name", "фамилия"),
    "first_name": ("first_name", "имя"),
    "middle_name": ("middle_name", "отчество"),
    "birth_date": ("birth_date", "дата рождения"),
    "roles": ("roles", "роли"),
    "email": ("email", "e-mail", "эл. почта"),
    "phone": ("phone", "телефон"),
    "language": ("language", "язык"),
    "guardian_of": ("guardian_of", "представитель для"),
}
KINDS = {
    "staff": "staff",
    "сотрудник": "staff",
    "guardian": "guardian",
    "родитель": "guardian",
    "представитель": "guardian",
    "student": "student",
    "ученик": "student",
}
REQUIRED = ("kind", "last_name", "first_name")


@dataclass
class RowError:
    row: int
    column: str
    problem: str


@dataclass
class ImportPlan:
    """What a file would create, or why it cannot."""

    people: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[int, str, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def report(self, dry_run: bool) -> dict[str, Any]:
        kinds = [form["kind"] for _, _, form in self.people]
        return {
            "dry_run": dry_run,
            "rows": len(self.people) + len({e.row for e in self.errors}),
            "valid": not self.errors,
            "people": {kind: kinds.count(kind) for kind in ("staff", "guardian", "student")},
            "guardianships": len(self.links),
            "errors": [e.__dict__ for e in self.errors],
        }


def read_rows(content: bytes) -> list[Row]:
    """The file's rows with their columns named as `COLUMNS` says (English or Russian),
    numbered as the spreadsheet shows them (schoolkit.uploads)."""
    upload = read_table(content)
    if len(upload.rows) > MAX_ROWS:
        raise ApiError(422, "too_many_rows", f"At most {MAX_ROWS} rows at once.", {"file": "size"})
    names = {cell: _column_name(cell) for cell in upload.header}
    missing = [column for column in REQUIRED if column not in names.values()]
    if missing:
        raise ApiError(
            422,
            "missing_columns",
            "The header lacks: " + ", ".join(missing) + ".",
            {column: "missing" for column in missing},
        )
    return [
        Row(row.number, {names[cell]: value for cell, value in row.cells.items() if names[cell]})
        for row in upload.rows
    ]


def _column_name(cell: str) -> str:
    wanted = cell.strip().lower()
    return next((name for name, aliases in COLUMNS.items() if wanted in aliases), "")


def plan(session: Session, school_id: str, rows: list[Row]) -> ImportPlan:
    result = ImportPlan()
    refs: dict[str, tuple[str, int]] = {}
    for number, row in ((row.number, row.cells) for row in rows):
        ref = row.get("ref", "").strip() or f"row-{number}"
        if ref in refs:
            result.errors.append(RowError(number, "ref", "This ref is used twice."))
            continue
        refs[ref] = ("", number)
        form = _check_row(result, number, row)
        if form is None:
            continue
        refs[ref] = (form["kind"], number)
        if _already_there(session, school_id, form):
            result.errors.append(RowError(number, "last_name", "This person is already there."))
            continue
        result.people.append((number, ref, form))
        for student_ref in _split(row.get("guardian_of", "")):
            result.links.append((number, ref, student_ref))
    _check_links(result, refs)
    return result


def _check_row(result: ImportPlan, number: int, row: dict[str, str]) -> dict[str, Any] | None:
    kind = KINDS.get(row.get("kind", "").strip().lower())
    if kind is None:
        result.errors.append(RowError(number, "kind", "Must be staff, guardian or student."))
        return None
    values: dict[str, Any] = {
        name: row[name] for name in people.PROFILE_FIELDS + people.CONTACT_FIELDS if row.get(name)
    }
    if "birth_date" in values:
        values["birth_date"] = _iso_date(values["birth_date"])
    if "phone" in values:
        values["phone"] = "".join(c for c in values["phone"] if c.isdigit() or c == "+")
    values.update(kind=kind, roles=_split(row.get("roles", "")))
    try:
        form = PersonInSchema().load(values)
    except ValidationError as error:
        for column, problems in sorted(error.normalized_messages().items()):
            result.errors.append(RowError(number, column, _first(problems)))
        return None
    try:
        form["roles"] = people.roles_for(kind, form["roles"])
    except ApiError as error:
        result.errors.append(RowError(number, "roles", error.message))
        return None
    if kind != "guardian" and row.get("guardian_of", "").strip():
        result.errors.append(RowError(number, "guardian_of", "Only a guardian has wards."))
        return None
    return form


def _check_links(result: ImportPlan, refs: dict[str, tuple[str, int]]) -> None:
    seen: set[tuple[str, str]] = set()
    for number, guardian_ref, student_ref in result.links:
        if refs.get(student_ref, ("", 0))[0] != "student":
            problem = f"No student with ref {student_ref} in this file."
            result.errors.append(RowError(number, "guardian_of", problem))
        elif (guardian_ref, student_ref) in seen:
            result.errors.append(RowError(number, "guardian_of", "The same ward twice."))
        seen.add((guardian_ref, student_ref))


def _already_there(session: Session, school_id: str, form: dict[str, Any]) -> bool:
    if form["kind"] == "staff":
        return False  # namesakes among staff are common; no birth date to tell them apart
    query = select(Person.id).where(
        Person.school_id == school_id,
        Person.kind == form["kind"],
        Person.last_name == form["last_name"],
        Person.first_name == form["first_name"],
        Person.birth_date == form.get("birth_date"),
    )
    return session.scalars(query).first() is not None


def _iso_date(text: str) -> str:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date().isoformat()
        except ValueError:
            continue
    return text  # the schema names the problem


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


def _first(problems: object) -> str:
    while isinstance(problems, list | dict):
        problems = next(iter(problems.values() if isinstance(problems, dict) else problems))
    return str(problems)


def apply(session: Session, school_id: str, actor_id: str, result: ImportPlan) -> dict[str, str]:
    """Write a checked plan: people first, then the guardianships between them."""
    created: dict[str, Person] = {}
    for _, ref, form in result.people:
        created[ref] = people.create_person(session, school_id, actor_id, form)
    for _, guardian_ref, student_ref in result.links:
        people.link_guardian(
            session, school_id, actor_id, created[guardian_ref], created[student_ref], via="import"
        )
    return {ref: person.id for ref, person in created.items()}
