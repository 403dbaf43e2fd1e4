"""The consent service's own part of an erasure: its consent and agreement records go.

What the act of destruction needs stays: the erasure request (subjects as opaque ids),
its participants' confirmations and its log, retained under Roskomnadzor order No. 179.
"""

from __future__ import annotations

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from consent.models import Agreement, Consent
from schoolkit.erasure import ErasureOutcome, ErasureRequest, Retention

HOLDS = frozenset({"consents", "erasure_act"})
ACT_BASIS = "Приказ Роскомнадзора № 179 от 28.10.2022, п. 3"


def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    if request.asks_for("consents"):
        people, school = request.subject_ids, request.school_id
        outcome.count("consents", _delete(session, Consent, school, people))
        outcome.count("agreements", _delete(session, Agreement, school, people))
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
