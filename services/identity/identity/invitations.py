"""One-time registration codes and self-registration (R-IDN-2, issue 3 §5).

A class teacher (for their own class) or an administrator issues a code for a student's
guardian, or for the student themself. The code is shown once, on the screen or on a
class's printed slips; only its digest is stored. Redeeming it opens the account with the
login and password the guardian chooses, and links the guardian to the student. A code
expires, works once, and failed attempts from one address are limited.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from identity import audit, classes, people
from identity.models import Account, AuditEntry, Invitation, Person
from schoolkit.auth import ADMINISTRATOR, Principal
from schoolkit.errors import ApiError
from schoolkit.events import as_utc

VALID_FOR = timedelta(days=float(os.environ.get("IDENTITY_INVITATION_DAYS") or 14))
# Failed redemptions from one address within the window before it must wait.
MAX_FAILED_REDEMPTIONS = int(os.environ.get("IDENTITY_MAX_FAILED_CODES") or 10)
FAILURE_WINDOW = timedelta(minutes=15)
# Crockford's base32 without the letters people confuse (I, L, O, U): 12 characters are
# 60 bits, far beyond guessing at the rate the limit allows.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclass
class IssuedCode:
    invitation: Invitation
    code: str


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def code_digest(code: str) -> str:
    normalised = "".join(code.upper().split()).replace("-", "").translate(READS_AS)
    return hashlib.sha256(normalised.encode()).hexdigest()


def check_may_invite_for(
    session: Session,
    principal: Principal,
    student: Person,
    *,
    not_found: ApiError | None = None,
) -> None:
    """Administrators for any student of the school; a class teacher for their own class.
    An object named in the path (an invitation) of another class is `not_found`, exactly
    as an unknown id (issue 14: nobody learns that it exists); a student named in a body
    or query has been asked for reach already (identity/reach.py), so the 403 is for
    someone the caller reaches but may not invite for (a guardian of their class)."""
    if ADMINISTRATOR in principal.roles:
        return
    found = classes.class_of_student(session, student.id)
    if found is None or found.class_teacher_id != principal.user_id:
        raise not_found or ApiError(
            403, "not_your_class", "Class teachers issue codes for their own class only."
        )


def issue(
    session: Session,
    principal: Principal,
    student: Person,
    *,
    registers: str = "guardian",
    guardian: Person | None = None,
) -> IssuedCode:
    if student.kind != "student":
        raise ApiError(
            422, "not_a_student", "Codes are issued for a student.", {"student_id": "kind"}
        )
    if guardian is not None and guardian.kind != "guardian":
        raise ApiError(
            422, "not_a_guardian", "That person is not a guardian.", {"guardian_id": "kind"}
        )
    registering = guardian if registers == "guardian" else student
    if registering is not None and session.get(Account, registering.id) is not None:
        raise ApiError(409, "already_registered", "This person already has an account.")
    check_may_invite_for(session, principal, student)
    now = datetime.now(UTC)
    code = new_code()
    invitation = Invitation(
        school_id=student.school_id,
        student_id=student.id,
        registers=registers,
        guardian_id=guardian.id if guardian is not None else None,
        code_digest=code_digest(code),
        issued_by=principal.user_id,
        issued_at=now,
        expires_at=now + VALID_FOR,
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        school_id=student.school_id,
        action="invitation_issued",
        actor_id=principal.user_id,
        target_id=student.id,
        details={"invitation_id": invitation.id, "registers": registers},
    )
    return IssuedCode(invitation, code)


def issue_for_class(session: Session, principal: Principal, class_id: str) -> list[IssuedCode]:
    """New guardian codes for every student of the class; earlier unused ones stop working,
    so only the slips printed last are valid."""
    found = classes.class_of(session, principal.school_id, class_id)
    # A class teacher's reach is their own class: another is answered as an unknown one.
    if found is None or (
        ADMINISTRATOR not in principal.roles and found.class_teacher_id != principal.user_id
    ):
        raise ApiError(404, "not_found", "No such class.")
    students = _people(session, principal.school_id, classes.students_of(session, class_id))
    _revoke_unused(session, [student.id for student in students], principal.user_id)
    return [issue(session, principal, student) for student in students]


def _people(session: Session, school_id: str, ids: list[str]) -> list[Person]:
    query = (
        select(Person)
        .where(Person.id.in_(ids), Person.school_id == school_id)
        .order_by(Person.last_name, Person.first_name)
    )
    return list(session.scalars(query))


def _revoke_unused(session: Session, student_ids: list[str], actor_id: str) -> None:
    session.execute(
        update(Invitation)
        .where(
            Invitation.student_id.in_(student_ids),
            Invitation.registers == "guardian",
            Invitation.guardian_id.is_(None),
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))
    )


def revoke(session: Session, invitation: Invitation, actor_id: str) -> None:
    if invitation.used_at is not None:
        raise ApiError(409, "code_used", "This code has already been used.")
    invitation.revoked_at = invitation.revoked_at or datetime.now(UTC)
    audit.record(
        session,
        school_id=invitation.school_id,
        action="invitation_revoked",
        actor_id=actor_id,
        target_id=invitation.student_id,
        details={"invitation_id": invitation.id},
    )


def redeem(session: Session, form: dict[str, Any], ip: str | None) -> tuple[Person, Invitation]:
    """Register with a code: the account, and for a guardian the guardianship, at once."""
    _check_address_limit(session, ip)
    invitation = session.scalars(
        select(Invitation)
        .where(Invitation.code_digest == code_digest(form["code"]))
        .with_for_update()
    ).first()
    if invitation is None:
        message = "No such code; check how it was typed."
        _refuse(session, None, ip=ip, status=404, code="code_unknown", message=message)
    _check_usable(session, invitation, ip)
    person = _registering_person(session, invitation, form)
    people.open_account(
        session, person, form["login"], form["password"], person.id, method="invitation_code"
    )
    if invitation.registers == "guardian":
        student = session.get(Person, invitation.student_id)
        if student is not None and not people.is_linked(session, person.id, student.id):
            people.link_guardian(
                session, person.school_id, person.id, person, student, via="invitation_code"
            )
    invitation.used_at, invitation.account_id = datetime.now(UTC), person.id
    audit.record(
        session,
        school_id=invitation.school_id,
        action="registration",
        actor_id=person.id,
        target_id=invitation.student_id,
        ip=ip,
        details={"invitation_id": invitation.id},
    )
    return person, invitation


def _check_usable(session: Session, invitation: Invitation, ip: str | None) -> None:
    if invitation.used_at is not None:
        refusal = ("code_used", "This code has already been used.")
    elif invitation.revoked_at is not None:
        refusal = ("code_revoked", "This code was withdrawn; ask the school for a new one.")
    elif as_utc(invitation.expires_at) <= datetime.now(UTC):
        refusal = ("code_expired", "This code has expired; ask the school for a new one.")
    else:
        return
    _refuse(session, invitation, ip=ip, status=410, code=refusal[0], message=refusal[1])


def _registering_person(session: Session, invitation: Invitation, form: dict[str, Any]) -> Person:
    known_id = (
        invitation.guardian_id if invitation.registers == "guardian" else invitation.student_id
    )
    if known_id is not None:
        person = session.get(Person, known_id)
        if person is None:
            raise ApiError(
                410, "code_revoked", "This code was withdrawn; ask the school for a new one."
            )
        return person
    for field in ("last_name", "first_name"):
        if not form.get(field):
            raise ApiError(422, "name_required", "Tell us your name.", {field: "required"})
    return people.create_person(
        session,
        invitation.school_id,
        None,
        {**form, "kind": "guardian", "login": None, "password": None},
    )


def _check_address_limit(session: Session, ip: str | None) -> None:
    since = datetime.now(UTC) - FAILURE_WINDOW
    failures = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.ip == ip, AuditEntry.action == "registration", AuditEntry.at >= since)
        .where(AuditEntry.outcome != "ok")
    )
    if (failures or 0) >= MAX_FAILED_REDEMPTIONS:
        raise ApiError(429, "too_many_attempts", "Too many wrong codes; try again in 15 minutes.")


def _refuse(
    session: Session,
    invitation: Invitation | None,
    *,
    ip: str | None,
    status: int,
    code: str,
    message: str,
) -> NoReturn:
    audit.record(
        session,
        school_id=invitation.school_id if invitation is not None else "-",
        action="registration",
        target_id=invitation.student_id if invitation is not None else None,
        outcome=code,
        ip=ip,
    )
    # The attempt must count even though the request fails.
    session.commit()
    raise ApiError(status, code, message, {"code": code.removeprefix("code_")})
