"""The audit of logins, token issuance and administrative actions (issue 3 §7).

Who, what, whom, when, from where, and how it ended; never a password, a token or a
code. Details are ids and rule names only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from identity.models import AuditEntry


def record(
    session: Session,
    *,
    school_id: str,
    action: str,
    actor_id: str | None = None,
    target_id: str | None = None,
    outcome: str = "ok",
    ip: str | None = None,
    details: dict[str, str] | None = None,
) -> None:
    session.add(
        AuditEntry(
            school_id=school_id,
            at=datetime.now(UTC),
            action=action,
            actor_id=actor_id,
            target_id=target_id,
            outcome=outcome,
            ip=ip,
            details=details or {},
        )
    )
