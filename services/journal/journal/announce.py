"""`journal-announce`: every class and every student's current class, announced again.

consent checks who a class teacher may act for against its copy of the journal's classes
and enrolments (audit issue 14). An installation whose classes were made before consent
began to copy them, or a consent restored from an old backup, has an empty or stale copy;
this command fills it. Each event carries the entity's current version, so a consumer that
already holds it ignores it. A student who has left is not announced (their leaving was).
It writes to the outbox only: the worker's relay sends the events as usual.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.contingent import announce_enrolment
from journal.models import Enrolment, SchoolClass
from journal.roster import publish_class
from schoolkit.announce import announce_command


@dataclass(frozen=True)
class Announced:
    classes: int
    students: int


def announce(session: Session, school_id: str) -> Announced:
    classes = session.scalars(
        select(SchoolClass).where(SchoolClass.school_id == school_id).order_by(SchoolClass.class_id)
    ).all()
    for school_class in classes:
        publish_class(session, school_class, "updated")
    enrolments = session.scalars(
        select(Enrolment)
        .where(Enrolment.school_id == school_id, Enrolment.left_on.is_(None))
        .order_by(Enrolment.enrolment_id)
    ).all()
    for enrolment in enrolments:
        announce_enrolment(session, enrolment)
    return Announced(classes=len(classes), students=len(enrolments))


def main(argv: list[str] | None = None) -> int:
    return announce_command("journal", __doc__, announce, _summary, argv)


def _summary(done: Announced) -> str:
    return f"{done.classes} classes, {done.students} students in them"


if __name__ == "__main__":
    sys.exit(main())
