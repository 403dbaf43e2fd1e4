"""`identity-announce`: every person and guardianship of a school, announced again.

The services that keep copies of identity's people (consent checks every family against
its copy, since the audit's issue 14) learn them from events. An installation whose
people were registered before a service began to copy them, or a service restored from
an old backup, has an empty or stale copy; this command fills it. Each event carries the
entity's current version, so a consumer that already holds it ignores it, and an erased
person is not announced, having no row left. It writes to the outbox only: the worker's
relay sends the events as usual, in order.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.models import Guardianship, Person
from identity.people import guardian_linked, person_changed
from schoolkit.announce import announce_command
from schoolkit.outbox import publish


@dataclass(frozen=True)
class Announced:
    people: int
    guardianships: int


def announce(session: Session, school_id: str) -> Announced:
    people = session.scalars(
        select(Person).where(Person.school_id == school_id).order_by(Person.id)
    ).all()
    for person in people:
        publish(session, person_changed(person, "updated"))
    links = session.scalars(
        select(Guardianship).where(Guardianship.school_id == school_id).order_by(Guardianship.id)
    ).all()
    for link in links:
        publish(session, guardian_linked(link))
    return Announced(people=len(people), guardianships=len(links))


def main(argv: list[str] | None = None) -> int:
    return announce_command("identity", __doc__, announce, _summary, argv)


def _summary(done: Announced) -> str:
    return f"{done.people} people, {done.guardianships} guardianships"


if __name__ == "__main__":
    sys.exit(main())
