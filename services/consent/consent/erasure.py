"""The consent service's own part of an erasure: its consent and agreement records go, and
its copies of the subjects' people records, guardianships and class memberships.

What the act of destruction needs stays: the erasure request (subjects as opaque ids),
its participants' confirmations and its log, retained under Roskomnadzor order No. 179.
"""

from __future__ import annotations

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from consent import copies
from consent.models import Agreement, Consent
from schoolkit.erasure import ErasureOutcome, ErasureRequest, Retention

# profile, guardianships, enrolments: consent's copies (consent/copies.py) of who a person
# is to the school, their guardian-student links and their class.
HOLDS = frozenset({"consents", "erasure_act", "profile", "guardianships", "enrolments"})
ACT_BASIS = "Приказ Роскомнадзора № 179 от 28.10.2022, п. 3"


def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    if request.asks_for("consents"):
        people, school = request.subject_ids, request.school_id
        outcome.count("consents", _delete(session, Consent, school, people))
        outcome.count("agreements", _delete(session, Agreement, school, people))
    _erase_copies(session, request, outcome)
    kept = request.retention_of("erasure_act")
    outcome.retained.append(kept or Retention("erasure_act", ACT_BASIS))
    return outcome


def _delete(
    session: Session, model: type[Consent] | type[Agreement], school: str, people: list[str]
) -> int:
    """The records of the erasure's school only: the same id in another school is not
    the erasure's to destroy."""
    about = or_(model.student_id.in_(people), model.guardian_id.in_(people))
    found = delete(model).where(model.school_id == school, about)
    return session.execute(found).rowcount or 0


def _erase_copies(session: Session, request: ErasureRequest, outcome: ErasureOutcome) -> None:
    """The copies go within the erasure's school only: the same id elsewhere is not ours."""
    school, people = request.school_id, request.subject_ids
    if request.asks_for("profile"):
        outcome.count("profile", copies.forget_people(session, school, people))
    if request.asks_for("guardianships"):
        outcome.count("guardianships", copies.forget_guardianships(session, school, people))
    if request.asks_for("enrolments"):
        outcome.count("enrolments", copies.forget_memberships(session, school, people))
