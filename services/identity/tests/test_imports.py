"""Bulk import of people from CSV and XLSX with a dry run (issue 3 §6, R-ROLE-1)."""

from __future__ import annotations

import io
from collections.abc import Callable

import requests
from openpyxl import Workbook

from .conftest import Provider

GOOD_CSV = """Номер;Тип;Фамилия;Имя;Отчество;Дата рождения;Роли;Эл. почта;Телефон;Представитель для
s1;ученик;Соколов;Артём;Ильич;14.03.2015;;;;
s2;ученик;Соколова;Вера;Ильинична;2017-01-30;;;;
g1;родитель;Соколова;Ирина;Петровна;;;irina@example.org;+7 (916) 123-45-67;s1, s2
t1;сотрудник;Лебедев;Павел;;;subject_teacher;pavel@example.org;;
"""

BAD_CSV = """kind,last_name,first_name,birth_date,roles,email,guardian_of,ref
student,Петров,Иван,2015-13-40,,,,p1
guardian,Петрова,,,,not-an-email,p9,g1
staff,Ким,Олег,,wizard,,,t1
pupil,Кто,Это,,,,,x1
student,Петров,Иван,2015-01-01,,,,p1
"""


def post_file(
    provider: Provider, headers: dict, content: bytes, content_type: str, dry_run: bool
) -> requests.Response:
    return requests.post(
        provider.api("/v1/imports/people"),
        params={"dry_run": str(dry_run).lower()},
        data=content,
        headers={**headers, "Content-Type": content_type},
        timeout=30,
    )


def people_of(provider: Provider, headers: dict) -> list[dict]:
    return requests.get(provider.api("/v1/people"), headers=headers, timeout=10).json()


def test_a_dry_run_reports_what_would_be_created_and_writes_nothing(
    provider: Provider, admin: dict
) -> None:
    before = people_of(provider, admin)

    answer = post_file(provider, admin, GOOD_CSV.encode("cp1251"), "text/csv", dry_run=True)

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["valid"] is True and report["errors"] == []
    assert report["people"] == {"staff": 1, "guardian": 1, "student": 2}
    assert report["guardianships"] == 2
    assert people_of(provider, admin) == before
    assert provider.published("identity.person.changed") == []


def test_an_import_creates_people_and_links_guardians_to_their_children(
    provider: Provider, admin: dict
) -> None:
    answer = post_file(provider, admin, GOOD_CSV.encode(), "text/csv", dry_run=False)

    assert answer.status_code == 201, answer.text
    created = answer.json()["created"]
    guardian = requests.get(provider.api(f"/v1/people/{created['g1']}"), headers=admin, timeout=10)
    assert guardian.json()["phone"] == "+79161234567"
    assert guardian.json()["email"] == "irina@example.org"
    student = requests.get(provider.api(f"/v1/people/{created['s1']}"), headers=admin, timeout=10)
    assert student.json()["birth_date"] == "2015-03-14"
    links = {
        (e["data"]["guardian_id"], e["data"]["student_id"], e["data"]["via"])
        for e in provider.published("identity.guardian.linked")
    }
    assert links == {
        (created["g1"], created["s1"], "import"),
        (created["g1"], created["s2"], "import"),
    }
    again = post_file(provider, admin, GOOD_CSV.encode(), "text/csv", dry_run=True)
    assert again.status_code == 422  # the students and their guardian are there already
    already = {e["row"] for e in again.json()["errors"] if e["problem"].startswith("This person")}
    assert already == {2, 3, 4}


def test_every_bad_row_is_reported_by_row_and_column_and_nothing_is_written(
    provider: Provider, admin: dict
) -> None:
    before = people_of(provider, admin)

    for dry_run in (True, False):
        answer = post_file(provider, admin, BAD_CSV.encode(), "text/csv", dry_run=dry_run)
        assert answer.status_code == 422
        found = {(e["row"], e["column"]) for e in answer.json()["errors"]}
        assert found == {
            (2, "birth_date"),
            (3, "first_name"),
            (3, "email"),
            (4, "roles"),
            (5, "kind"),
            (6, "ref"),
        }
        assert answer.json()["error"]["code"] == "invalid_rows"
    assert people_of(provider, admin) == before


def test_a_bad_row_is_named_by_the_number_the_spreadsheet_shows_blank_rows_counted(
    provider: Provider, admin: dict
) -> None:
    with_gaps = "kind;last_name;first_name\nstudent;Петров;Иван\n;;\n\nstudent;Петрова;\n"

    answer = post_file(provider, admin, with_gaps.encode("cp1251"), "text/csv", dry_run=True)

    assert answer.status_code == 422
    assert {(e["row"], e["column"]) for e in answer.json()["errors"]} == {(5, "first_name")}


def test_an_xlsx_file_imports_like_a_csv(provider: Provider, admin: dict) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["kind", "last_name", "first_name", "birth_date"])
    sheet.append(["student", "Новикова", "Полина", "2016-05-05"])
    content = io.BytesIO()
    book.save(content)

    answer = requests.post(
        provider.api("/v1/imports/people"),
        files={"file": ("class.xlsx", content.getvalue())},
        headers=admin,
        timeout=30,
    )

    assert answer.status_code == 201, answer.text
    [person_id] = answer.json()["created"].values()
    person = requests.get(provider.api(f"/v1/people/{person_id}"), headers=admin, timeout=10)
    assert person.json()["last_name"] == "Новикова"


def test_a_file_that_is_not_a_table_or_lacks_columns_is_a_clear_422(
    provider: Provider, admin: dict
) -> None:
    broken = post_file(
        provider,
        admin,
        b"PK\x03\x04 not really",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        dry_run=True,
    )
    no_names = post_file(provider, admin, b"kind;email\nstudent;a@b.c\n", "text/csv", dry_run=True)

    assert (broken.status_code, broken.json()["error"]["code"]) == (422, "unreadable_file")
    assert no_names.status_code == 422
    assert no_names.json()["error"]["fields"] == {"last_name": "missing", "first_name": "missing"}


def test_only_an_administrator_imports(provider: Provider, make_person: Callable) -> None:
    make_person("staff", login="zam", roles=["deputy_director", "class_teacher"])

    answer = post_file(
        provider,
        provider.bearer("zam", "Длинный пароль 2025"),
        GOOD_CSV.encode(),
        "text/csv",
        False,
    )

    assert answer.status_code == 403
