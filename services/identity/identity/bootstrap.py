"""The first administrator of a fresh installation (`identity-bootstrap-admin`).

Login and password come from BOOTSTRAP_ADMIN_LOGIN / BOOTSTRAP_ADMIN_PASSWORD; without
a password one is generated and printed once, to the person running `make up`, never logged.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass

from sqlalchemy import select

from identity.models import Account, Person
from identity.passwords import hash_password
from schoolkit.db import Database
from schoolkit.settings import Settings

DEFAULT_SCHOOL = "school-1"
DEFAULT_LOGIN = "admin"


@dataclass(frozen=True)
class BootstrapResult:
    login: str
    school_id: str
    generated_password: str | None
    created: bool


def ensure_admin(
    database: Database, login: str, password: str | None, school_id: str = DEFAULT_SCHOOL
) -> BootstrapResult:
    """Create the first administrator unless an account with that login exists."""
    with database.transaction() as session:
        existing = session.scalars(
            select(Account).where(Account.school_id == school_id, Account.login == login)
        ).first()
        if existing is not None:
            return BootstrapResult(login, school_id, None, created=False)
        generated = None if password else secrets.token_urlsafe(12)
        person = Person(
            school_id=school_id,
            kind="staff",
            last_name="Администратор",
            first_name=login,
            roles=["administrator"],
        )
        session.add(person)
        session.flush()
        session.add(
            Account(
                id=person.id,
                school_id=school_id,
                login=login,
                password_hash=hash_password(password or generated or ""),
                roles=["administrator"],
            )
        )
    return BootstrapResult(login, school_id, generated, created=True)


def main() -> int:
    settings = Settings.from_env("identity")
    database = Database(settings.database_url)
    result = ensure_admin(
        database,
        os.environ.get("BOOTSTRAP_ADMIN_LOGIN") or DEFAULT_LOGIN,
        os.environ.get("BOOTSTRAP_ADMIN_PASSWORD") or None,
        os.environ.get("BOOTSTRAP_SCHOOL_ID") or DEFAULT_SCHOOL,
    )
    database.dispose()
    out = sys.stdout
    if not result.created:
        out.write(f"administrator: {result.login} (already exists; password unchanged)\n")
    elif result.generated_password:
        out.write(
            f"administrator: {result.login}  password: {result.generated_password}"
            "  (generated, shown only this once)\n"
        )
    else:
        out.write(f"administrator: {result.login}  password: from BOOTSTRAP_ADMIN_PASSWORD\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
