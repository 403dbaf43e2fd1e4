"""People, accounts and guardianships of a school, and blocking (issue 3 §1, §4).

Every change that others must learn of goes out through the outbox in the same
transaction: people and roles to the journal and diary, contacts to notify only,
guardianships to the diary and notify, blocks to everyone's deny-list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity import audit
from identity.models import Account, Guardianship, Person
from identity.oauth.sessions import revoke_all_sessions
from identity.passwords import check_policy, hash_password
from identity.schemas import BIRTH_DATE_FOR_STUDENTS_ONLY
from schoolkit import denylist
from schoolkit.errors import ApiError
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish

KIND_ROLES = {"guardian": ["guardian"], "student": ["student"]}
STAFF_ROLES = {
    "administrator",
    "director",
    "deputy_director",
    "class_teacher",
    "subject_teacher",
    "operations",
}


def create_person(
    session: Session, school_id: str, actor_id: str | None, form: dict[str, Any]
) -> Person:
    roles = roles_for(form["kind"], form.get("roles") or [])
    person = Person(
        school_id=school_id,
        kind=form["kind"],
        last_name=form["last_name"],
        first_name=form["first_name"],
        middle_name=form.get("middle_name"),
        birth_date=form.get("birth_date"),
        roles=roles,
        email=form.get("email"),
        phone=form.get("phone"),
        language=form.get("language") or "ru",
    )
    session.add(person)
    session.flush()
    if form.get("login"):
        open_account(session, person, form["login"], form["password"], actor_id)
    publish(session, person_changed(person, "created"))
    publish(session, contact_changed(person))
    audit.record(
        session,
        school_id=school_id,
        action="person_created",
        actor_id=actor_id,
        target_id=person.id,
    )
    return person


PROFILE_FIELDS = ("last_name", "first_name", "middle_name", "birth_date")
CONTACT_FIELDS = ("email", "phone", "language")


def update_person(
    session: Session, person: Person, actor_id: str, changes: dict[str, Any]
) -> list[str]:
    """Edit a profile, contacts or a staff member's roles; returns the fields that changed."""
    if changes.get("birth_date") and person.kind != "student":
        raise ValidationError(BIRTH_DATE_FOR_STUDENTS_ONLY, "birth_date")
    changed = [
        name
        for name in (*PROFILE_FIELDS, *CONTACT_FIELDS)
        if name in changes and getattr(person, name) != changes[name]
    ]
    for name in changed:
        setattr(person, name, changes[name])
    if "roles" in changes and person.kind == "staff":
        roles = roles_for("staff", changes["roles"])
        if roles != person.roles:
            person.roles = roles
            changed.append("roles")
            account = session.get(Account, person.id)
            if account is not None:
                # New roles reach the user's next token, within the access token's life.
                account.roles = roles
    if not changed:
        return changed
    person.version += 1
    publish(session, person_changed(person, "updated"))
    if set(changed) & set(CONTACT_FIELDS):
        publish(session, contact_changed(person))
    audit.record(
        session,
        school_id=person.school_id,
        action="person_updated",
        actor_id=actor_id,
        target_id=person.id,
        details={"fields": ",".join(sorted(changed))},
    )
    return changed


def roles_for(kind: str, asked: list[str]) -> list[str]:
    if kind != "staff":
        return KIND_ROLES[kind]
    unknown = sorted(set(asked) - STAFF_ROLES)
    if unknown or not asked:
        raise ApiError(
            422,
            "invalid_roles",
            "Staff need one or more of: " + ", ".join(sorted(STAFF_ROLES)) + ".",
            {"roles": "invalid"},
        )
    return sorted(set(asked))


def open_account(
    session: Session,
    person: Person,
    login: str,
    password: str | None,
    actor_id: str | None,
    *,
    method: str = "administrator",
) -> None:
    taken = select(Account.id).where(Account.school_id == person.school_id, Account.login == login)
    if session.scalars(taken).first() is not None:
        raise ApiError(409, "login_taken", "This login is already taken.", {"login": "taken"})
    if not password:
        raise ApiError(
            422, "password_required", "An account needs a password.", {"password": "required"}
        )
    check_policy(password, login=login)
    session.add(
        Account(
            id=person.id,
            school_id=person.school_id,
            login=login,
            password_hash=hash_password(password),
            roles=person.roles,
        )
    )
    publish(
        session,
        Event(
            "identity.user.registered",
            {
                "user_id": person.id,
                "person_id": person.id,
                "kind": person.kind,
                "roles": person.roles,
                "method": method,
                "registered_at": iso_utc(datetime.now(UTC)),
                "entity_version": 1,
            },
            person.school_id,
            subject=person.id,
        ),
    )
    audit.record(
        session,
        school_id=person.school_id,
        action="account_opened",
        actor_id=actor_id,
        target_id=person.id,
    )


def person_changed(person: Person, change: str) -> Event:
    data: dict[str, Any] = {
        "person_id": person.id,
        "kind": person.kind,
        "roles": person.roles,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "change": change,
        "entity_version": person.version,
    }
    if person.middle_name:
        data["middle_name"] = person.middle_name
    if person.birth_date and person.kind == "student":
        data["birth_date"] = person.birth_date.isoformat()
    return Event("identity.person.changed", data, person.school_id, subject=person.id)


def contact_changed(person: Person) -> Event:
    data: dict[str, Any] = {
        "person_id": person.id,
        "preferred_language": person.language,
        "entity_version": person.version,
    }
    if person.email:
        data["email"] = person.email
    if person.phone:
        data["phone"] = person.phone
    return Event("identity.contact.changed", data, person.school_id, subject=person.id)


def is_linked(session: Session, guardian_id: str, student_id: str) -> bool:
    existing = select(Guardianship.id).where(
        Guardianship.guardian_id == guardian_id, Guardianship.student_id == student_id
    )
    return session.scalars(existing).first() is not None


def link_guardian(
    session: Session,
    school_id: str,
    actor_id: str,
    guardian: Person,
    student: Person,
    *,
    via: str = "administrator",
) -> Guardianship:
    if guardian.kind != "guardian" or student.kind != "student":
        raise ApiError(422, "not_a_family", "A guardianship links a guardian to a student.")
    if is_linked(session, guardian.id, student.id):
        raise ApiError(409, "already_linked", "This guardian is already linked to this student.")
    link = Guardianship(
        school_id=school_id,
        guardian_id=guardian.id,
        student_id=student.id,
        via=via,
        linked_at=datetime.now(UTC),
    )
    session.add(link)
    session.flush()
    publish(session, guardian_linked(link))
    audit.record(
        session, school_id=school_id, action="guardian_linked", actor_id=actor_id, target_id=link.id
    )
    return link


def guardian_linked(link: Guardianship) -> Event:
    data = {
        "guardianship_id": link.id,
        "guardian_id": link.guardian_id,
        "student_id": link.student_id,
        "via": link.via,
        "linked_at": iso_utc(link.linked_at),
        "entity_version": 1,  # a guardianship never changes: it is linked or unlinked
    }
    return Event("identity.guardian.linked", data, link.school_id, subject=link.student_id)


def unlink_guardian(
    session: Session, school_id: str, actor_id: str, link: Guardianship, reason: str
) -> None:
    data = {
        "guardianship_id": link.id,
        "guardian_id": link.guardian_id,
        "student_id": link.student_id,
        "reason": reason,
        "unlinked_at": iso_utc(datetime.now(UTC)),
        "entity_version": 2,
    }
    session.delete(link)
    publish(session, Event("identity.guardian.unlinked", data, school_id, subject=link.student_id))
    audit.record(
        session,
        school_id=school_id,
        action="guardian_unlinked",
        actor_id=actor_id,
        target_id=link.id,
    )


def block(
    session: Session, account: Account, actor_id: str, reason: str, notice: bool = True
) -> None:
    """R-IDN-4, R-IDN-6: blocked at once here and, through the deny-list, everywhere."""
    if account.status == "blocked":
        raise ApiError(409, "already_blocked", "The account is already blocked.")
    now = datetime.now(UTC)
    account.status, account.blocked_reason, account.blocked_at = "blocked", reason, now
    account.version += 1
    data = {
        "user_id": account.id,
        "person_id": account.id,
        "reason": reason,
        "blocked_at": iso_utc(now),
        "by": actor_id,
        "notice": notice,
        "entity_version": account.version,
    }
    event = Event("identity.account.blocked", data, account.school_id, subject=account.id)
    publish(session, event)
    denylist.on_account_blocked(session, event)
    revoke_all_sessions(
        session,
        account.id,
        account.school_id,
        "compromise_reported" if reason == "compromise_reported" else "administrator",
    )
    audit.record(
        session,
        school_id=account.school_id,
        action="account_blocked",
        actor_id=actor_id,
        target_id=account.id,
        details={"reason": reason},
    )


def unblock(
    session: Session, account: Account, actor_id: str, restored_with: str = "old_password"
) -> None:
    if account.status != "blocked":
        raise ApiError(409, "not_blocked", "The account is not blocked.")
    now = datetime.now(UTC)
    account.status, account.blocked_reason, account.blocked_at = "active", None, None
    account.version += 1
    data = {
        "user_id": account.id,
        "person_id": account.id,
        "restored_with": restored_with,
        "unblocked_at": iso_utc(now),
        "by": actor_id,
        "notice": True,
        "entity_version": account.version,
    }
    event = Event("identity.account.unblocked", data, account.school_id, subject=account.id)
    publish(session, event)
    denylist.on_account_unblocked(session, event)
    audit.record(
        session,
        school_id=account.school_id,
        action="account_unblocked",
        actor_id=actor_id,
        target_id=account.id,
    )
