"""The identity HTTP API under /api/identity/v1: thin routes (parse, call, serialise)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy import select

from identity import credentials, people, reach
from identity.models import Account, Guardianship, Person
from identity.schemas import (
    BlockSchema,
    GuardianshipInSchema,
    GuardianshipSchema,
    MeSchema,
    PasswordChangeSchema,
    PersonInSchema,
    PersonSchema,
    PersonUpdateSchema,
    TemporaryPasswordSchema,
    UnblockSchema,
)
from schoolkit import tombstones
from schoolkit.auth import (
    ADMINISTRATOR,
    CLASS_TEACHER,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    current_principal,
    require_auth,
    require_roles,
)
from schoolkit.errors import ApiError, load_json
from schoolkit.paging import keyset_page, link_header, page_request
from schoolkit.web import db_session

blueprint = Blueprint("identity", __name__, url_prefix="/v1")

# R-ROLE-1: administrators manage people and accounts; R-ROLE-2/3: the leadership and
# class teachers look people up (class teachers only their own classes' students and
# guardians, to hand out credentials: identity/reach.py).
READERS = (ADMINISTRATOR, DIRECTOR, DEPUTY_DIRECTOR, CLASS_TEACHER)
PAGE = 200
MAX_PAGE = 500


def _own_person(person_id: str) -> Person:
    """A person the caller may reach (identity/reach.py); anyone else, and one erased in
    the school (whose profile a retention kept), is a plain 404 like an unknown id, so no
    write brings anything of theirs back."""
    session = db_session()
    principal = current_principal()
    no_such_person = ApiError(404, "not_found", "No such person.")
    tombstones.refuse_erased(session, principal.school_id, person_id, not_found=no_such_person)
    person = reach.person_in_reach(session, principal, person_id)
    if person is None:
        raise no_such_person
    return person


def _own_account(person_id: str) -> Account:
    _own_person(person_id)
    account = db_session().get(Account, person_id)
    if account is None:
        raise ApiError(404, "no_account", "This person has no account.")
    return account


@blueprint.get("/me")
@require_auth
def me() -> Any:
    """The caller's account: never the password.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: Me
    """
    account = db_session().get(Account, current_principal().user_id)
    if account is None:
        raise ApiError(404, "not_found", "No such account.")
    return MeSchema().dump(account)


@blueprint.post("/people")
@require_roles(ADMINISTRATOR)
def create_person() -> Any:
    """Create a person of the school, with an account when a login is given.
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: PersonIn
      responses:
        201:
          content:
            application/json:
              schema: Person
        409:
          description: The login is taken.
        422: ValidationFailed
    """
    form = load_json(PersonInSchema())
    session = db_session()
    principal = current_principal()
    person = people.create_person(session, principal.school_id, principal.user_id, form)
    session.commit()
    return PersonSchema().dump(person), 201


@blueprint.get("/people")
@require_roles(*READERS)
def list_people() -> Any:
    """People of the school the caller may reach, by kind and by the start of the last name,
    in order of last name, first name and id, a page at a time.

    Administrators, the director and deputies see everyone of the school; a class teacher
    the students of their own classes and those students' guardians.
    ---
    get:
      parameters:
      - {in: query, name: kind, schema: {type: string, enum: [staff, guardian, student]}}
      - {in: query, name: q, schema: {type: string}}
      - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 500, default: 200}}
      - in: query
        name: cursor
        description: From the previous page's `Link` header; absent for the first page.
        schema: {type: string}
      responses:
        200:
          description: >-
            One page. When more follow, a `Link: <…&cursor=…>; rel="next"` header gives
            the next page's address (RFC 8288); the last page has none.
          headers:
            Link: {schema: {type: string}, description: 'The next page, rel="next".'}
          content:
            application/json:
              schema: {type: array, items: Person}
        422:
          description: A limit outside 1..500 (invalid_limit) or a cursor not given by us
            (invalid_cursor).
    """
    paging = page_request(default=PAGE, maximum=MAX_PAGE)
    query = select(Person).where(reach.reachable(current_principal()))
    if kind := request.args.get("kind"):
        query = query.where(Person.kind == kind)
    if text := request.args.get("q"):
        query = query.where(Person.last_name.startswith(text, autoescape=True))
    order = (Person.last_name, Person.first_name, Person.id)
    found, next_cursor = keyset_page(db_session(), query, order, paging)
    return PersonSchema(many=True).dump(found), 200, link_header(next_cursor)


@blueprint.get("/people/<person_id>")
@require_roles(*READERS)
def read_person(person_id: str) -> Any:
    """One person.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: Person
        404: NotFound
    """
    return PersonSchema().dump(_own_person(person_id))


@blueprint.patch("/people/<person_id>")
@require_roles(ADMINISTRATOR)
def update_person(person_id: str) -> Any:
    """Edit a person's profile, contacts, or a staff member's roles.
    ---
    patch:
      requestBody:
        content:
          application/json:
            schema: PersonUpdate
      responses:
        200:
          content:
            application/json:
              schema: Person
        404: NotFound
        422: ValidationFailed
    """
    person = _own_person(person_id)
    changes = load_json(PersonUpdateSchema())
    session = db_session()
    people.update_person(session, person, current_principal().user_id, changes)
    session.commit()
    return PersonSchema().dump(person)


@blueprint.post("/people/<person_id>/temporary-password")
@require_roles(ADMINISTRATOR)
def temporary_password(person_id: str) -> Any:
    """Issue a one-time temporary password, to be changed at the next sign-in (R-IDN-5).
    ---
    post:
      responses:
        200:
          content:
            application/json:
              schema: TemporaryPassword
        404: NotFound
    """
    account = _own_account(person_id)
    session = db_session()
    temporary = credentials.issue_temporary_password(session, account, current_principal().user_id)
    session.commit()
    body = {"person_id": person_id, "temporary_password": temporary, "must_change_password": True}
    return TemporaryPasswordSchema().dump(body), 200, {"Cache-Control": "no-store"}


@blueprint.post("/me/password")
@require_auth
def change_password() -> Any:
    """Change one's own password; every session ends, so sign in again with the new one.
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: PasswordChange
      responses:
        204:
          description: Changed.
        403:
          description: The current password is wrong.
        422: ValidationFailed
    """
    form = load_json(PasswordChangeSchema())
    session = db_session()
    account = session.get(Account, current_principal().user_id)
    if account is None:
        raise ApiError(404, "not_found", "No such account.")
    credentials.change_password(session, account, form["current_password"], form["new_password"])
    session.commit()
    return "", 204


@blueprint.post("/guardianships")
@require_roles(ADMINISTRATOR)
def link_guardian() -> Any:
    """Link a guardian to a student.
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: GuardianshipIn
      responses:
        201:
          content:
            application/json:
              schema: Guardianship
        404: NotFound
        409:
          description: Already linked.
    """
    form = load_json(GuardianshipInSchema())
    guardian, student = _own_person(form["guardian_id"]), _own_person(form["student_id"])
    session = db_session()
    principal = current_principal()
    link = people.link_guardian(session, principal.school_id, principal.user_id, guardian, student)
    session.commit()
    return GuardianshipSchema().dump(link), 201


@blueprint.delete("/guardianships/<link_id>")
@require_roles(ADMINISTRATOR)
def unlink_guardian(link_id: str) -> Any:
    """End a guardianship.
    ---
    delete:
      responses:
        204:
          description: Unlinked.
        404: NotFound
    """
    session = db_session()
    link = session.get(Guardianship, link_id)
    principal = current_principal()
    if link is None or link.school_id != principal.school_id:
        raise ApiError(404, "not_found", "No such guardianship.")
    people.unlink_guardian(
        session,
        principal.school_id,
        principal.user_id,
        link,
        request.args.get("reason") or "guardianship_ended",
    )
    session.commit()
    return "", 204


@blueprint.post("/people/<person_id>/block")
@require_roles(ADMINISTRATOR)
def block(person_id: str) -> Any:
    """Block a user at once, everywhere (R-IDN-4).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: Block
      responses:
        200:
          description: Blocked; every session revoked.
        404: NotFound
        409:
          description: Already blocked.
    """
    account = _own_account(person_id)
    reason = load_json(BlockSchema())["reason"]
    session = db_session()
    people.block(session, account, current_principal().user_id, reason)
    session.commit()
    return {"person_id": person_id, "status": account.status}


@blueprint.post("/people/<person_id>/unblock")
@require_roles(ADMINISTRATOR)
def unblock(person_id: str) -> Any:
    """Restore access (R-IDN-5).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: Unblock
      responses:
        200:
          description: Active again.
        404: NotFound
        409:
          description: Not blocked.
    """
    account = _own_account(person_id)
    restored_with = load_json(UnblockSchema())["restored_with"]
    session = db_session()
    people.unblock(session, account, current_principal().user_id, restored_with)
    session.commit()
    return {"person_id": person_id, "status": account.status}


@blueprint.post("/compromise-reports")
@require_auth
def report_compromise() -> Any:
    """The user reports their credentials compromised: blocked at once (R-IDN-6).
    ---
    post:
      responses:
        200:
          description: Blocked; every session revoked; the school is told.
    """
    principal = current_principal()
    session = db_session()
    account = session.get(Account, principal.user_id)
    if account is None:
        raise ApiError(404, "not_found", "No such account.")
    people.block(session, account, principal.user_id, "compromise_reported")
    session.commit()
    return {"person_id": account.id, "status": account.status}
