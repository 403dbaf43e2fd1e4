"""Invitations, class slips and self-registration under /api/identity/v1 (R-IDN-2, R-IDN-7)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import select

from identity import classes, invitations, people, reach, slips
from identity.models import Invitation, Person
from identity.oauth.addresses import client_address
from identity.schemas import (
    InvitationInSchema,
    InvitationSchema,
    RegisteredSchema,
    RegistrationInSchema,
)
from schoolkit import tombstones
from schoolkit.auth import ADMINISTRATOR, CLASS_TEACHER, current_principal, require_roles
from schoolkit.errors import ApiError, load_json
from schoolkit.web import db_session

blueprint = Blueprint("invitations", __name__, url_prefix="/v1")
ISSUERS = (ADMINISTRATOR, CLASS_TEACHER)


def _no_such_person(field: str) -> ApiError:
    return ApiError(404, "not_found", "No such person.", {field: "not_found"})


def _own_person(person_id: str | None, field: str) -> Person:
    """A person of the caller's school, not erased there (DESIGN §4 6a)."""
    session, school = db_session(), current_principal().school_id
    no_such_person = _no_such_person(field)
    tombstones.refuse_erased(session, school, person_id, not_found=no_such_person)
    person = session.get(Person, person_id) if person_id else None
    if person is None or person.school_id != school:
        raise no_such_person
    return person


def _invitable_student(student_id: str | None) -> Person:
    """The person a body or query names as the student, if the caller reaches them
    (identity/reach.py). Asked before anything else about them (kind, account, class): a
    class teacher naming another class's student is answered exactly as for an unknown
    person, so nobody learns that they exist (issue 14)."""
    student = _own_person(student_id, "student_id")
    if reach.person_in_reach(db_session(), current_principal(), student.id) is None:
        raise _no_such_person("student_id")
    return student


def _invitable_guardian(guardian_id: str, student: Person) -> Person:
    """The guardian a code is issued for. Redeeming it links them to the student, so a
    class teacher may name only a guardian already linked to that student (else a code
    could open another class's guardian's account); an administrator, who links guardians
    anyway, any guardian of the school. Anyone else is answered as an unknown person."""
    guardian = _own_person(guardian_id, "guardian_id")
    principal = current_principal()
    if ADMINISTRATOR not in principal.roles and not people.is_linked(
        db_session(), guardian.id, student.id
    ):
        raise _no_such_person("guardian_id")
    return guardian


@blueprint.post("/invitations")
@require_roles(*ISSUERS)
def issue_invitation() -> Any:
    """Issue a one-time registration code for a student's guardian (or the student).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: InvitationIn
      responses:
        201:
          content:
            application/json:
              schema: Invitation
        404:
          description: No such person, or (to a class teacher) a student of another class
            or a guardian not linked to the student, answered alike.
        409:
          description: That person already has an account.
    """
    form = load_json(InvitationInSchema())
    student = _invitable_student(form["student_id"])
    guardian = _invitable_guardian(form["guardian_id"], student) if form["guardian_id"] else None
    session = db_session()
    issued = invitations.issue(
        session, current_principal(), student, registers=form["registers"], guardian=guardian
    )
    session.commit()
    body = {**InvitationSchema().dump(issued.invitation), "code": issued.code}
    return body, 201, {"Cache-Control": "no-store"}


@blueprint.get("/invitations")
@require_roles(*ISSUERS)
def list_invitations() -> Any:
    """A student's invitations and what became of them (never the codes).
    ---
    get:
      parameters:
      - {in: query, name: student_id, required: true, schema: {type: string}}
      responses:
        200:
          content:
            application/json:
              schema: {type: array, items: Invitation}
        404:
          description: No such person, or (to a class teacher) a student of another class,
            answered alike.
    """
    student = _invitable_student(request.args.get("student_id"))
    session = db_session()
    # In reach but not of the caller's class (a guardian of it): a refusal, not a 404.
    invitations.check_may_invite_for(session, current_principal(), student)
    query = (
        select(Invitation)
        .where(Invitation.student_id == student.id)
        .order_by(Invitation.issued_at.desc())
    )
    return InvitationSchema(many=True, exclude=("code",)).dump(list(session.scalars(query)))


@blueprint.delete("/invitations/<invitation_id>")
@require_roles(*ISSUERS)
def revoke_invitation(invitation_id: str) -> Any:
    """Withdraw an unused code.
    ---
    delete:
      responses:
        204:
          description: The code no longer works.
        404: NotFound
        409:
          description: Already used.
    """
    session = db_session()
    invitation = session.get(Invitation, invitation_id)
    principal = current_principal()
    no_such_invitation = ApiError(404, "not_found", "No such invitation.")
    if invitation is None or invitation.school_id != principal.school_id:
        raise no_such_invitation
    student = _own_person(invitation.student_id, "id")
    invitations.check_may_invite_for(session, principal, student, not_found=no_such_invitation)
    invitations.revoke(session, invitation, principal.user_id)
    session.commit()
    return "", 204


@blueprint.post("/classes/<class_id>/slips")
@require_roles(*ISSUERS)
def class_slips(class_id: str) -> Any:
    """Fresh codes for every student of a class, as printable slips (PDF); the class's
    earlier unused guardian codes stop working.
    ---
    post:
      responses:
        200:
          description: The slips.
          content:
            application/pdf: {}
        404:
          description: No such class, or not the caller's (answered alike).
    """
    session = db_session()
    principal = current_principal()
    issued = invitations.issue_for_class(session, principal, class_id)
    found = classes.class_of(session, principal.school_id, class_id)
    assert found is not None  # issue_for_class has checked it
    students = {
        person.id: person
        for person in session.scalars(
            select(Person).where(Person.id.in_([code.invitation.student_id for code in issued]))
        )
    }
    document = slips.class_slips(
        found.name, [(students[code.invitation.student_id], code) for code in issued]
    )
    session.commit()
    return Response(
        document,
        mimetype="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="slips-{class_id}.pdf"',
        },
    )


@blueprint.post("/registrations")
def register() -> Any:
    """A guardian (or student) registers with their code, choosing login and password.
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: RegistrationIn
      responses:
        201:
          content:
            application/json:
              schema: Registered
        404:
          description: No such code.
        409:
          description: The login is taken.
        410:
          description: The code has expired, was used or withdrawn.
        422: ValidationFailed
        429:
          description: Too many wrong codes from this address.
    """
    form = load_json(RegistrationInSchema())
    session = db_session()
    person, invitation = invitations.redeem(session, form, client_address())
    session.commit()
    body = {"person_id": person.id, "login": form["login"], "student_id": invitation.student_id}
    return RegisteredSchema().dump(body), 201
