"""Export and import (R-JRN-14, R-EXC-1) on PostgreSQL: CSV and XLSX data sets, the
OneRoster 1.2 bundle both ways, and imports that check every row before writing any."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, func, select

from journal.models import Assignment, Enrolment, SchoolClass, Subject
from schoolkit import tombstones
from schoolkit.db import Database
from schoolkit.tables import outbox
from schoolkit.testing import TokenIssuer

from .conftest import OTHER_SCHOOL, SCHOOL, new_id
from .school_on_postgres import (
    Builder,
    SmallSchool,
    journal_on_postgres,
    small_school,
    with_marks_and_attendance,
)


@pytest.fixture
def school(postgres_url: str, token_issuer: TokenIssuer) -> SmallSchool:
    client = journal_on_postgres(postgres_url, token_issuer)
    return with_marks_and_attendance(small_school(Builder(client, token_issuer)))


@pytest.fixture
def count(postgres_url: str) -> Any:
    """How many rows of a model (or outbox events of a type) the database holds."""

    def rows(model: Any, school: str | None = None, event_type: str | None = None) -> int:
        engine = create_engine(postgres_url)
        with engine.connect() as connection:
            if event_type is not None:
                query = select(func.count()).where(outbox.c.event_type == event_type)
            else:
                query = select(func.count()).select_from(model)
                if school is not None:
                    query = query.where(model.school_id == school)
            total = int(connection.scalar(query) or 0)
        engine.dispose()
        return total

    return rows


def _csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())  # Excel needs the BOM to read Cyrillic
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(build: Builder, path: str, data: bytes, name: str, **query: Any) -> Any:
    return build.client.post(
        f"/api/journal/v1{path}",
        query_string=query,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=build.deputy,
    )


def test_subjects_export_as_csv_in_russian(school: SmallSchool) -> None:
    answer = school.build.get("/exports/subjects")

    assert answer.mimetype == "text/csv"
    rows = _csv(answer.data)
    assert [(row["name"], row["short_name"]) for row in rows] == [
        ("Математика", ""),
        ("Русский язык", "Рус. яз."),
    ]


def test_rosters_export_as_xlsx_lists_each_student_of_each_class(school: SmallSchool) -> None:
    answer = school.build.get("/exports/rosters", format="xlsx")

    sheet = load_workbook(io.BytesIO(answer.data)).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:3] == ["class_id", "class_name", "grade"]
    students = {row[header.index("student_id")] for row in rows}
    assert students == {school.first, school.second}
    assert {row[1] for row in rows} == {"5А"}


def test_staff_export_gives_each_teacher_their_load(school: SmallSchool) -> None:
    rows = _csv(school.build.get("/exports/staff").data)

    load = {(r["teacher_id"], r["subject"], r["class_name"], r["hours_per_week"]) for r in rows}
    assert load == {
        (school.maths_teacher_id, "Математика", "5А", "2"),
        (school.russian_teacher_id, "Русский язык", "5А", "3"),
    }


def test_lessons_and_marks_export_as_held(school: SmallSchool) -> None:
    lessons = {r["lesson_id"]: r for r in _csv(school.build.get("/exports/lessons").data)}
    marks = _csv(school.build.get("/exports/marks").data)

    maths_1 = lessons[school.lessons["maths_1"]]
    assert (maths_1["topic"], maths_1["homework"], maths_1["date"]) == (
        "Дроби",
        "№ 12, 13",
        "2025-09-02",
    )
    assert sorted((m["subject"], m["work_type"], m["value"]) for m in marks) == [
        ("Математика", "answer", "4"),
        ("Математика", "answer", "5"),
        ("Математика", "control", "3"),
        ("Русский язык", "answer", "2"),
    ]


def test_the_oneroster_bundle_has_the_standard_files_and_headers(school: SmallSchool) -> None:
    answer = school.build.get("/exports/oneroster")

    bundle = zipfile.ZipFile(io.BytesIO(answer.data))
    files = {name: _bundle_csv(bundle, name) for name in bundle.namelist()}
    assert set(files) == {
        "manifest.csv",
        "orgs.csv",
        "academicSessions.csv",
        "classes.csv",
        "courses.csv",
        "users.csv",
        "enrollments.csv",
        "lineItems.csv",
        "results.csv",
    }
    manifest = {row["propertyName"]: row["value"] for row in files["manifest.csv"]}
    assert manifest["oneroster.version"] == "1.2" and manifest["file.results"] == "bulk"
    header = bundle.read("enrollments.csv").decode().splitlines()[0]
    assert header == (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,"
        "role,primary,beginDate,endDate"
    )
    scores = sorted(row["score"] for row in files["results.csv"])
    assert scores == ["2", "3", "4", "5"]
    line_items = {row["sourcedId"] for row in files["lineItems.csv"]}
    assert {row["lineItemSourcedId"] for row in files["results.csv"]} <= line_items
    users = {row["sourcedId"] for row in files["users.csv"]}
    assert {school.first, school.second, school.maths_teacher_id} <= users
    homerooms = [row for row in files["classes.csv"] if row["classType"] == "homeroom"]
    assert [(row["title"], row["grades"]) for row in homerooms] == [("5А", "05")]


def _bundle_csv(bundle: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(bundle.read(name).decode())))


def test_a_oneroster_bundle_imports_into_another_schools_year(
    school: SmallSchool, count: Any
) -> None:
    bundle = school.build.get("/exports/oneroster").data
    other = Builder(school.build.client, school.build.issuer, school=OTHER_SCHOOL)
    year = other.post(
        "/years", {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"}
    )

    into = {"year_id": year["year_id"]}
    dry = _upload(other, "/imports/oneroster", bundle, "b.zip", dry_run="true", **into)
    assert count(SchoolClass, OTHER_SCHOOL) == 0  # a dry run writes nothing
    real = _upload(other, "/imports/oneroster", bundle, "b.zip", **into)

    assert dry.status_code == 200 and dry.json["errors"] == []
    assert real.status_code == 200, real.json
    assert real.json["written"] is True
    assert count(Subject, OTHER_SCHOOL) == 2
    assert count(SchoolClass, OTHER_SCHOOL) == 1
    assert count(Enrolment, OTHER_SCHOOL) == 2
    assert count(Assignment, OTHER_SCHOOL) == 2  # the maths and the Russian teacher
    students = other.get(f"/classes/{other.get('/classes').json[0]['class_id']}/enrolments")
    assert {s["student_id"] for s in students.json} == {school.first, school.second}


def test_importing_subjects_from_a_semicolon_csv_publishes_as_the_api_does(
    school: SmallSchool, count: Any
) -> None:
    data = "\ufeffname;short_name\nФизика;Физ.\nИстория;\n".encode()
    events_before = count(None, event_type="journal.subject.changed")

    dry = _upload(school.build, "/imports/subjects", data, "subjects.csv", dry_run="true")
    after_dry_run = count(Subject, school.build.school)
    real = _upload(school.build, "/imports/subjects", data, "subjects.csv")

    assert (dry.json["created"], dry.json["written"], after_dry_run) == (2, False, 2)
    assert (real.json["created"], real.json["written"]) == (2, True)
    assert count(Subject, school.build.school) == 4
    assert count(None, event_type="journal.subject.changed") == events_before + 2


@pytest.mark.parametrize(
    ("data", "saved_by"),
    [
        ("name;short_name\nФизика;Физ.\n".encode("cp1251"), "Excel in Russia (Windows-1251)"),
        ("name\tshort_name\nФизика\tФиз.\n".encode("cp1251"), "Excel, tab-separated text"),
    ],
)
def test_a_csv_as_excel_in_russia_saves_it_imports_as_identity_takes_it(
    school: SmallSchool, data: bytes, saved_by: str
) -> None:
    answer = _upload(school.build, "/imports/subjects", data, "subjects.csv", dry_run="true")

    assert answer.status_code == 200, (saved_by, answer.json)
    assert answer.json["created"] == 1


def test_a_bad_row_is_reported_by_row_and_column_and_nothing_is_written(
    school: SmallSchool, count: Any
) -> None:
    teacher = new_id()
    data = _xlsx(
        [
            ["teacher_id", "subject", "class_name", "hours_per_week"],
            [teacher, "Математика", "5А", 4],
            ["not-an-id", "Математика", "5А", 2],
            [teacher, "Астрономия", "5А", 1],
            [teacher, "Русский язык", "9Я", 1],
        ]
    )
    year = {"year_id": school.year_id}
    before = count(Assignment, school.build.school)

    dry = _upload(school.build, "/imports/staff", data, "staff.xlsx", dry_run="true", **year)
    real = _upload(school.build, "/imports/staff", data, "staff.xlsx", **year)

    problems = {(e["row"], e["column"]) for e in dry.json["errors"]}
    assert problems == {(3, "teacher_id"), (4, "subject"), (5, "class_name")}
    assert dry.json["created"] == 1
    assert real.status_code == 422 and real.json["error"]["code"] == "import_rejected"
    assert real.json["report"]["errors"] == dry.json["errors"]
    assert count(Assignment, school.build.school) == before  # not even the good row


def test_rosters_import_opens_classes_and_enrols_their_students(
    school: SmallSchool, count: Any
) -> None:
    class_teacher, pupils = new_id(), [new_id(), new_id()]
    data = (
        "class_name,grade,class_teacher_id,student_id,individual_plan,enrolled_on\n"
        f"6Б,6,{class_teacher},{pupils[0]},false,2025-09-01\n"
        f"6Б,6,,{pupils[1]},true,2025-09-01\n"
        f"5А,5,,{school.first},,2025-09-01\n"
    ).encode()
    enrolled_before = count(None, event_type="journal.student.enrolled")

    answer = _upload(school.build, "/imports/rosters", data, "r.csv", year_id=school.year_id)

    assert answer.status_code == 200, answer.json
    assert (answer.json["created"], answer.json["unchanged"]) == (2, 1)
    classes = school.build.get("/classes").json
    sixth = next(c for c in classes if c["name"] == "6Б")
    assert sixth["class_teacher_id"] == class_teacher
    students = school.build.get(f"/classes/{sixth['class_id']}/enrolments").json
    assert {s["student_id"]: s["individual_plan"] for s in students} == {
        pupils[0]: False,
        pupils[1]: True,
    }
    assert count(None, event_type="journal.student.enrolled") == enrolled_before + 2


def test_a_student_of_another_class_is_not_moved_by_an_import(school: SmallSchool) -> None:
    data = f"class_name,grade,student_id,enrolled_on\n7В,7,{school.first},2025-09-01\n".encode()

    answer = _upload(
        school.build, "/imports/rosters", data, "r.csv", dry_run="true", year_id=school.year_id
    )

    assert answer.json["errors"] == [
        {
            "row": 2,
            "column": "student_id",
            "problem": "Already in another class: transfer them instead.",
        }
    ]


def test_a_file_without_the_needed_columns_is_refused_whole(school: SmallSchool) -> None:
    answer = _upload(school.build, "/imports/subjects", b"title\n\xd0\xa5\n", "s.csv")

    assert answer.status_code == 422
    assert answer.json["error"]["fields"] == {"file": "Missing columns: name."}


def test_the_administrator_exports_rosters_but_not_marks(school: SmallSchool) -> None:
    administrator = school.build.as_role(new_id(), "administrator")

    rosters = school.build.get("/exports/rosters", administrator)
    marks = school.build.get("/exports/marks", administrator)

    assert (rosters.status_code, marks.status_code) == (200, 403)


def test_a_subject_teacher_exports_nothing(school: SmallSchool) -> None:
    teacher = school.build.as_role(school.maths_teacher_id, "subject_teacher")

    assert school.build.get("/exports/subjects", teacher).status_code == 403


def test_another_school_exports_none_of_this_schools_rows(school: SmallSchool) -> None:
    other_deputy = school.build.issuer.bearer(
        sub=new_id(), school_id=OTHER_SCHOOL, roles=["deputy_director"]
    )

    marks = _csv(school.build.get("/exports/marks", other_deputy).data)
    rosters = _csv(school.build.get("/exports/rosters", other_deputy).data)

    assert (marks, rosters) == ([], [])


def test_an_unknown_data_set_is_a_404_naming_the_choices(school: SmallSchool) -> None:
    answer = school.build.get("/exports/grades")

    assert answer.status_code == 404
    assert "rosters" in json.dumps(answer.json["error"]["fields"])


def test_a_rosters_workbook_with_typed_cells_imports_as_typed(
    school: SmallSchool, count: Any
) -> None:
    pupil = new_id()
    data = _xlsx(
        [
            ["class_name", "grade", "student_id", "individual_plan", "enrolled_on"],
            ["8Г", 8, pupil, True, datetime(2025, 9, 1)],
        ]
    )

    answer = _upload(school.build, "/imports/rosters", data, "r.xlsx", year_id=school.year_id)

    assert answer.status_code == 200, answer.json
    eighth = next(c for c in school.build.get("/classes").json if c["name"] == "8Г")
    [student] = school.build.get(f"/classes/{eighth['class_id']}/enrolments").json
    assert (student["student_id"], student["individual_plan"], student["enrolled_on"]) == (
        pupil,
        True,
        "2025-09-01",
    )


def test_a_roster_import_does_not_enrol_an_erased_student_again(
    school: SmallSchool, postgres_url: str
) -> None:
    erased = new_id()
    database = Database(postgres_url)
    with database.transaction() as session:
        tombstones.bury(session, erased, new_id(), SCHOOL)
    database.dispose()
    data = f"class_name,grade,student_id,enrolled_on\n6Б,6,{erased},2025-09-01\n".encode()

    answer = _upload(school.build, "/imports/rosters", data, "r.csv", year_id=school.year_id)

    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["fields"] == {"row:2.student_id": "No such student in this school."}
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        found = select(func.count()).select_from(Enrolment).where(Enrolment.student_id == erased)
        assert connection.execute(found).scalar_one() == 0
    engine.dispose()
