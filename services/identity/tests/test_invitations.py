"""Registration codes, class slips and self-registration (issue 3 §5; R-IDN-2, R-ROLE-3)."""

from __future__ import annotations

import io
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import update

from identity import invitations
from identity.handlers import HANDLERS
from identity.models import ClassMembership, Invitation
from schoolkit.events import Event
from schoolkit.testing import Bus
from schoolkit.worker import Worker

from .conftest import SCHOOL, Provider

PASSWORD = "Длинный пароль 2025"
CODE = re.compile(r"Код: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


@pytest.fixture
def identity_worker(bus: Bus, provider: Provider, postgres_url: str) -> Iterator[Worker]:
    worker = Worker(bus.settings("identity", postgres_url), HANDLERS)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not bus.is_consuming(f"{bus.namespace}.identity.journal.student.enrolled"):
        assert time.monotonic() < deadline, "the identity worker never bound its queue"
        time.sleep(0.05)
    yield worker
    worker.stop.set()
    thread.join(timeout=15)


def place_in_class(
    bus: Bus, provider: Provider, class_id: str, teacher_id: str, students: list[str]
) -> None:
    """The journal announces the class and its students; identity copies them."""
    class_data = {
        "class_id": class_id,
        "year_id": str(uuid.uuid4()),
        "name": "5А",
        "grade": 5,
        "class_teacher_id": teacher_id,
        "change": "created",
        "changed_at": "2026-09-01T08:00:00.000Z",
        "entity_version": 1,
    }
    bus.publish(Event("journal.class.changed", class_data, SCHOOL, subject=class_id))
    for student_id in students:
        enrolled = {
            "enrolment_id": str(uuid.uuid4()),
            "student_id": student_id,
            "class_id": class_id,
            "group_ids": [],
            "individual_plan": False,
            "enrolled_on": "2026-09-01",
            "entity_version": 1,
        }
        bus.publish(Event("journal.student.enrolled", enrolled, SCHOOL, subject=student_id))
    deadline = time.monotonic() + 10
    while True:
        with provider.database.transaction() as session:
            if all(session.get(ClassMembership, student) for student in students):
                return
        assert time.monotonic() < deadline, "identity never copied the class"
        time.sleep(0.05)


def register(provider: Provider, code: str, login: str, **fields: str) -> requests.Response:
    body = {"code": code, "login": login, "password": PASSWORD, **fields}
    if "last_name" not in body:
        body.update(last_name="Смирнова", first_name="Ольга")
    return requests.post(provider.api("/v1/registrations"), json=body, timeout=10)


def slip_codes(pdf: bytes) -> tuple[str, list[str]]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return text, CODE.findall(text)


def test_a_class_teacher_prints_slips_and_a_guardian_registers_with_one_code(
    bus: Bus, provider: Provider, identity_worker: Worker, make_person: Callable
) -> None:
    teacher = make_person("staff", login="klassruk", roles=["class_teacher", "subject_teacher"])
    students = [make_person("student", last_name=name) for name in ("Алексеев", "Борисова")]
    class_id = str(uuid.uuid4())
    place_in_class(bus, provider, class_id, teacher["id"], [s["id"] for s in students])
    headers = provider.bearer("klassruk", PASSWORD)

    printed = requests.post(
        provider.api(f"/v1/classes/{class_id}/slips"), headers=headers, timeout=10
    )

    assert printed.status_code == 200, printed.text
    assert printed.headers["Content-Type"] == "application/pdf"
    text, codes = slip_codes(printed.content)
    assert "Алексеев" in text and "Борисова" in text and "класс 5А" in text
    assert len(set(codes)) == 2
    answer = register(provider, codes[0].lower(), "olga.smirnova", email="olga@example.org")
    assert answer.status_code == 201, answer.text
    assert answer.json()["student_id"] == students[0]["id"]  # sorted by last name
    assert provider.login("olga.smirnova", PASSWORD).status_code == 200
    [linked] = provider.published("identity.guardian.linked")
    assert linked["data"]["student_id"] == students[0]["id"]
    assert linked["data"]["via"] == "invitation_code"
    [registered] = [
        e for e in provider.published("identity.user.registered") if e["data"]["kind"] == "guardian"
    ]
    assert registered["data"]["method"] == "invitation_code"
    again = register(provider, codes[0], "somebody.else")
    assert (again.status_code, again.json()["error"]["code"]) == (410, "code_used")


def issue_and_list(
    provider: Provider, headers: dict, student_id: str
) -> tuple[requests.Response, requests.Response]:
    """POST and GET /invitations naming one student: a student's code, their codes."""
    issued = requests.post(
        provider.api("/v1/invitations"),
        json={"student_id": student_id, "registers": "student"},
        headers=headers,
        timeout=10,
    )
    listed = requests.get(
        provider.api("/v1/invitations"),
        params={"student_id": student_id},
        headers=headers,
        timeout=10,
    )
    return issued, listed


def test_a_class_teacher_cannot_hand_out_codes_for_another_class(
    bus: Bus, provider: Provider, identity_worker: Worker, admin: dict, make_person: Callable
) -> None:
    owner = make_person("staff", roles=["class_teacher"])
    make_person("staff", login="drugoi", roles=["class_teacher"])
    student = make_person("student")
    class_id = str(uuid.uuid4())
    place_in_class(bus, provider, class_id, owner["id"], [student["id"]])
    other = provider.bearer("drugoi", PASSWORD)

    slips = requests.post(provider.api(f"/v1/classes/{class_id}/slips"), headers=other, timeout=10)
    unknown = requests.post(
        provider.api(f"/v1/classes/{uuid.uuid4()}/slips"), headers=other, timeout=10
    )
    # A student in the body or the query, of another class or unknown, answers alike
    # (registers=student: their account-less student would pass every other check).
    theirs = issue_and_list(provider, other, student["id"])
    nobodys = issue_and_list(provider, other, str(uuid.uuid4()))

    # Another class's slips are answered as an unknown class's: nobody learns it exists.
    assert (slips.status_code, slips.json()) == (404, unknown.json())
    for answer, unknown_answer in zip(theirs, nobodys, strict=True):
        assert (answer.status_code, answer.json()) == (404, unknown_answer.json())
        assert unknown_answer.json()["error"]["fields"] == {"student_id": "not_found"}
    # And no code was issued for the other class's student.
    codes = requests.get(
        provider.api("/v1/invitations"),
        params={"student_id": student["id"]},
        headers=admin,
        timeout=10,
    )
    assert (codes.status_code, codes.json()) == (200, [])


def test_a_class_teacher_names_only_a_guardian_of_that_student_in_a_code(
    bus: Bus, provider: Provider, identity_worker: Worker, admin: dict, make_person: Callable
) -> None:
    """A guardian's code, once redeemed, opens that guardian's account and links them to
    the student: naming another family's guardian would hand their account to whoever
    holds the slip. So a class teacher names only the student's own guardian."""
    teacher = make_person("staff", login="klassruk-5a", roles=["class_teacher"])
    own_student, other_student = make_person("student"), make_person("student")
    own_guardian, other_guardian = make_person("guardian"), make_person("guardian")
    for guardian, student in ((own_guardian, own_student), (other_guardian, other_student)):
        link = {"guardian_id": guardian["id"], "student_id": student["id"]}
        linked = requests.post(
            provider.api("/v1/guardianships"), json=link, headers=admin, timeout=10
        )
        assert linked.status_code == 201
    place_in_class(bus, provider, str(uuid.uuid4()), teacher["id"], [own_student["id"]])
    place_in_class(bus, provider, str(uuid.uuid4()), str(uuid.uuid4()), [other_student["id"]])
    headers = provider.bearer("klassruk-5a", PASSWORD)

    def code_for(guardian_id: str) -> requests.Response:
        body = {"student_id": own_student["id"], "guardian_id": guardian_id}
        return requests.post(
            provider.api("/v1/invitations"), json=body, headers=headers, timeout=10
        )

    foreign, unknown = code_for(other_guardian["id"]), code_for(str(uuid.uuid4()))
    assert (foreign.status_code, foreign.json()) == (404, unknown.json())
    assert unknown.json()["error"]["fields"] == {"guardian_id": "not_found"}
    assert code_for(own_guardian["id"]).status_code == 201
    # The administrator links guardians anyway, and may name any guardian of the school.
    by_admin = {"student_id": own_student["id"], "guardian_id": other_guardian["id"]}
    answer = requests.post(
        provider.api("/v1/invitations"), json=by_admin, headers=admin, timeout=10
    )
    assert answer.status_code == 201


def test_a_class_teacher_cannot_withdraw_another_class_code(
    bus: Bus, provider: Provider, identity_worker: Worker, admin: dict, make_person: Callable
) -> None:
    owner = make_person("staff", roles=["class_teacher"])
    make_person("staff", login="drugoi", roles=["class_teacher"])
    student = make_person("student")
    place_in_class(bus, provider, str(uuid.uuid4()), owner["id"], [student["id"]])
    invitation = issue(provider, admin, student["id"])
    other = provider.bearer("drugoi", PASSWORD)

    withdrawn = requests.delete(
        provider.api(f"/v1/invitations/{invitation['id']}"), headers=other, timeout=10
    )
    unknown = requests.delete(
        provider.api(f"/v1/invitations/{uuid.uuid4()}"), headers=other, timeout=10
    )

    assert (withdrawn.status_code, withdrawn.json()) == (404, unknown.json())
    # Nothing was withdrawn: the code still registers its guardian.
    assert register(provider, invitation["code"], "roditel.a").status_code == 201


def test_printing_slips_again_withdraws_the_earlier_codes(
    bus: Bus, provider: Provider, identity_worker: Worker, admin: dict, make_person: Callable
) -> None:
    student = make_person("student")
    class_id = str(uuid.uuid4())
    place_in_class(bus, provider, class_id, str(uuid.uuid4()), [student["id"]])
    slips = provider.api(f"/v1/classes/{class_id}/slips")
    [first] = slip_codes(requests.post(slips, headers=admin, timeout=10).content)[1]
    [second] = slip_codes(requests.post(slips, headers=admin, timeout=10).content)[1]

    stale = register(provider, first, "first.try")
    fresh = register(provider, second, "second.try")

    assert (stale.status_code, stale.json()["error"]["code"]) == (410, "code_revoked")
    assert fresh.status_code == 201


def issue(provider: Provider, admin: dict, student_id: str, **fields: str) -> dict:
    answer = requests.post(
        provider.api("/v1/invitations"),
        json={"student_id": student_id, **fields},
        headers=admin,
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_an_expired_code_is_refused_and_opens_nothing(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    invitation = issue(provider, admin, make_person("student")["id"])
    with provider.database.transaction() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.id == invitation["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )

    answer = register(provider, invitation["code"], "late.parent")

    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "code_expired"
    assert provider.login("late.parent", PASSWORD).status_code == 400
    assert provider.published("identity.guardian.linked") == []


def test_a_code_for_a_known_guardian_opens_their_account_and_a_student_code_the_students(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    student, guardian = make_person("student"), make_person("guardian")
    for_guardian = issue(provider, admin, student["id"], guardian_id=guardian["id"])
    for_student = issue(provider, admin, student["id"], registers="student")

    assert (
        register(provider, for_guardian["code"], "papa.known").json()["person_id"] == guardian["id"]
    )
    assert register(provider, for_student["code"], "pupil.own").json()["person_id"] == student["id"]
    me = requests.get(
        provider.api("/v1/me"), headers=provider.bearer("pupil.own", PASSWORD), timeout=10
    ).json()
    assert me["roles"] == ["student"]
    again = requests.post(
        provider.api("/v1/invitations"),
        json={"student_id": student["id"], "guardian_id": guardian["id"]},
        headers=admin,
        timeout=10,
    )
    assert again.status_code == 409  # that guardian has an account now


def test_registration_follows_the_password_and_login_rules_and_keeps_the_code(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    make_person(login="taken.login")
    invitation = issue(provider, admin, make_person("student")["id"])

    taken = register(provider, invitation["code"], "taken.login")
    weak = requests.post(
        provider.api("/v1/registrations"),
        json={
            "code": invitation["code"],
            "login": "new.parent",
            "password": "qwertyuiop",
            "last_name": "Орлова",
            "first_name": "Нина",
        },
        timeout=10,
    )

    assert taken.status_code == 409
    assert (weak.status_code, weak.json()["error"]["fields"]) == (
        422,
        {"password": "common_password"},
    )
    assert register(provider, invitation["code"], "new.parent").status_code == 201


def test_wrong_codes_from_one_address_are_limited(
    provider: Provider, admin: dict, make_person: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(invitations, "MAX_FAILED_REDEMPTIONS", 3)
    invitation = issue(provider, admin, make_person("student")["id"])
    guesses = [
        register(provider, invitations.new_code(), f"guess{n}").status_code for n in range(3)
    ]

    blocked = register(provider, invitation["code"], "real.parent")

    assert guesses == [404, 404, 404]
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (429, "too_many_attempts")


def test_invitations_of_another_school_are_not_there(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    invitation = issue(provider, admin, make_person("student")["id"])
    other_admin = provider.bearer("admin", "Ключ-от-кабинета-42", school="school-2")

    withdrawn = requests.delete(
        provider.api(f"/v1/invitations/{invitation['id']}"), headers=other_admin, timeout=10
    )
    listed = requests.get(
        provider.api("/v1/invitations"),
        params={"student_id": invitation["student_id"]},
        headers=other_admin,
        timeout=10,
    )

    assert (withdrawn.status_code, listed.status_code) == (404, 404)
    assert register(provider, invitation["code"], "still.works").status_code == 201
