"""Events as identity and consent send them, built from the contracts' canonical examples."""

from __future__ import annotations

import json
import uuid
from typing import Any

from schoolkit.events import Event
from schoolkit.settings import project_root

SCHOOL = "school-254"


def example(event_type: str) -> dict[str, Any]:
    path = project_root() / "contracts" / "examples" / f"{event_type}.v1.json"
    return json.loads(path.read_text(encoding="utf-8"))


def event(event_type: str, subject: str | None = None, **data: Any) -> Event:
    return Event(
        type=event_type,
        data={**example(event_type)["data"], **data},
        school_id=SCHOOL,
        subject=subject,
    )


def contact_changed(
    person_id: str, email: str, phone: str | None = None, version: int = 1, language: str = "ru"
) -> Event:
    fields: dict[str, Any] = {
        "person_id": person_id,
        "email": email,
        "preferred_language": language,
        "entity_version": version,
    }
    changed = event("identity.contact.changed", person_id, **fields)
    if phone is None:
        changed.data.pop("phone", None)
    else:
        changed.data["phone"] = phone
    return changed


def guardian_linked(guardian_id: str, student_id: str) -> Event:
    return event(
        "identity.guardian.linked",
        student_id,
        guardianship_id=str(uuid.uuid4()),
        guardian_id=guardian_id,
        student_id=student_id,
        entity_version=1,
    )


def erasure_requested(
    erasure_id: str,
    subjects: list[tuple[str, str]],
    reason: str = "consent_revoked",
    categories: list[str] | None = None,
) -> Event:
    """The request; `categories` defaults to the contract example's (a revocation's)."""
    extra = {} if categories is None else {"categories": categories, "retain": []}
    return event(
        "consent.erasure.requested",
        erasure_id=erasure_id,
        reason=reason,
        subjects=[{"subject_id": subject_id, "kind": kind} for subject_id, kind in subjects],
        **extra,
    )


def erasure_finished(
    erasure_id: str, subjects: list[tuple[str, str]], reason: str = "consent_revoked"
) -> Event:
    return event(
        "consent.erasure.finished",
        erasure_id=erasure_id,
        reason=reason,
        subjects=[{"subject_id": subject_id, "kind": kind} for subject_id, kind in subjects],
        act_url=f"/api/consent/v1/erasures/{erasure_id}/act.pdf",
    )


def new_id() -> str:
    return str(uuid.uuid4())
