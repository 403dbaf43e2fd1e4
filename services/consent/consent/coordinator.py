"""The erasure coordinator (DESIGN §4): request, track, ask again, warn, finish.

Every step is a row change plus an outbox event in one transaction, and every step is
written to the erasure's own log, which the act of destruction extracts (R-PD-4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from consent.models import Erasure, ErasureLogEntry, ErasureParticipant
from consent.settings import ErasureSettings
from schoolkit.events import Event, as_utc, iso_utc
from schoolkit.outbox import publish

TRIGGERS = {
    "consent.revoked": "consent_revoked",
    "consent.agreement.terminated": "agreement_terminated",
    "journal.student.left": "student_left",
}


_PARTICIPANTS = ErasureParticipant.__table__
_ERASURES = Erasure.__table__
_LOG = ErasureLogEntry.__table__

# A confirmation's statements, built once: the ORM's way (an ORM-enabled UPDATE built per
# call, a log object flushed by the unit of work) cost the consent worker more CPU than
# the database spent running them, and a year-end graduation brings six per student.
_CONFIRM = (
    update(_PARTICIPANTS)
    .where(
        _PARTICIPANTS.c.erasure_id == bindparam("b_erasure_id"),
        _PARTICIPANTS.c.participant == bindparam("b_participant"),
    )
    .values(
        confirmations=_PARTICIPANTS.c.confirmations + 1,
        counts=bindparam("b_counts", type_=_PARTICIPANTS.c.counts.type),
        retained=bindparam("b_retained", type_=_PARTICIPANTS.c.retained.type),
        confirmed_at=func.coalesce(
            _PARTICIPANTS.c.confirmed_at,
            bindparam("b_completed_at", type_=_PARTICIPANTS.c.confirmed_at.type),
        ),
    )
    .returning(_PARTICIPANTS.c.confirmations)
)
_LOG_CONFIRMATION = insert(_LOG).values(
    erasure_id=bindparam("b_erasure_id"),
    at=bindparam("b_at", type_=_LOG.c.at.type),
    what="confirmed",
    participant=bindparam("b_participant"),
    event_id=bindparam("b_event_id"),
    details=bindparam("b_details", type_=_LOG.c.details.type),
)
_COUNT_DOWN = (
    update(_ERASURES)
    .where(_ERASURES.c.id == bindparam("b_erasure_id"))
    .values(waiting=_ERASURES.c.waiting - 1)
    .returning(_ERASURES.c.waiting, _ERASURES.c.status)
)


@dataclass(frozen=True)
class Subject:
    subject_id: str
    kind: str


@dataclass(frozen=True)
class RegistrationWarning:
    """What the registrar is told when the registration itself came late (issue 14 §2)."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def years_after(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February: a term in years ends
    on the matching day of its last year, or on the last day of that month when the month
    has no such day (Civil Code of the RF, art. 192 p. 3), and 1 March would keep the
    data a day longer than the law asks."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def late_by(erasure: Erasure, now: datetime) -> timedelta | None:
    """How far past its deadline the erasure finished (or, still open, already is)."""
    end = as_utc(erasure.finished_at) if erasure.finished_at else now
    overrun = end - as_utc(erasure.deadline)
    return overrun if overrun > timedelta(0) else None


def duration_text(span: timedelta) -> str:
    """`5 дн. 3 ч. 12 мин.`: how an act states an overrun."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} дн." if days else "", f"{hours} ч." if hours else "", f"{minutes} мин."]
    return " ".join(part for part in parts if part)


class Coordinator:
    def __init__(self, settings: ErasureSettings) -> None:
        self.settings = settings

    # --- starting -----------------------------------------------------------------------

    def start(
        self,
        session: Session,
        *,
        school_id: str,
        reason: str,
        subjects: list[Subject],
        trigger_event_id: str,
        received_at: datetime,
        registered_by: str | None = None,
    ) -> Erasure:
        """Open the request once per trigger event; a repeated trigger returns the same one.

        `registered_by` is the staff member who registered the trigger (none for a student's
        leaving, which the journal reports): the act names who did it."""
        existing = session.scalars(
            select(Erasure).where(Erasure.trigger_event_id == trigger_event_id)
        ).first()
        if existing is not None:
            return existing
        policy = self.settings.policy
        erasure = Erasure(
            school_id=school_id,
            reason=reason,
            trigger_event_id=trigger_event_id,
            subjects=[{"subject_id": s.subject_id, "kind": s.kind} for s in subjects],
            categories=policy.to_erase(reason),
            retain=self._retained(reason, received_at),
            # Stored in UTC: SQLite keeps no offset, and every reader assumes UTC.
            received_at=received_at.astimezone(UTC),
            deadline=self.settings.calendar.deadline(
                received_at, self.settings.working_days
            ).astimezone(UTC),
            status="open",
            attempt=1,
            waiting=len(policy.participants),
            last_asked_at=datetime.now(UTC),
        )
        session.add(erasure)
        session.flush()
        for participant in policy.participants:
            session.add(ErasureParticipant(erasure_id=erasure.id, participant=participant))
        details: dict[str, object] = {"attempt": 1, "trigger": trigger_event_id}
        if registered_by:
            details["registered_by"] = registered_by
        log(session, erasure, "requested", details=details)
        publish(session, self._request_event(erasure))
        self._raise_if_registered_late(session, erasure)
        return erasure

    def _raise_if_registered_late(self, session: Session, erasure: Erasure) -> None:
        """A request registered past its warning point is overdue from its first moment:
        the sweep may never see it open (it can finish in seconds, still too late)."""
        now = datetime.now(UTC)
        if now >= self.warning_point(erasure):
            waiting = sorted(self.settings.policy.participants)
            self._raise_overdue(session, erasure, waiting, now)

    def warnings(self, erasure: Erasure, now: datetime | None = None) -> list[RegistrationWarning]:
        """What the registrar must hear at once when the paper reached them late."""
        now = now or datetime.now(UTC)
        overrun = late_by(erasure, now)
        if overrun is not None:
            return [
                RegistrationWarning(
                    "deadline_missed",
                    f"The legal term ended at {iso_utc(erasure.deadline)}: the erasure is "
                    f"already {duration_text(overrun)} late. Inform the person responsible.",
                )
            ]
        received = as_utc(erasure.received_at)
        one_day = self.settings.calendar.deadline(received, 1)
        if now > one_day or now >= self.warning_point(erasure):
            return [
                RegistrationWarning(
                    "registered_late",
                    f"Registered more than a working day after receipt; the legal term ends "
                    f"at {iso_utc(erasure.deadline)}.",
                )
            ]
        return []

    def _retained(self, reason: str, received_at: datetime) -> list[dict[str, str]]:
        kept = []
        for category in self.settings.policy.to_retain(reason):
            until = years_after(received_at.date(), category.retain_years or 0)
            kept.append(
                {"category": category.name, "basis": category.law or "", "until": until.isoformat()}
            )
        return kept

    def _request_event(self, erasure: Erasure) -> Event:
        return Event(
            type="consent.erasure.requested",
            school_id=erasure.school_id,
            data={
                "erasure_id": erasure.id,
                "subjects": erasure.subjects,
                "reason": erasure.reason,
                "categories": erasure.categories,
                "retain": erasure.retain,
                "deadline": iso_utc(erasure.deadline),
                "attempt": erasure.attempt,
            },
        )

    # --- confirmations ------------------------------------------------------------------

    def confirm(self, session: Session, event: Event) -> str | None:
        """A participant's confirmation, in three statements: the participant's row, the
        log entry, the erasure's counter (its row lock orders concurrent confirmations).
        The consent worker applies six of these per erasure one after another, so each
        is a statement built once (see _CONFIRM and its neighbours)."""
        data = event.data
        erasure_id, participant = data["erasure_id"], data["participant"]
        completed_at = datetime.fromisoformat(data["completed_at"].replace("Z", "+00:00"))
        confirmed = session.execute(
            _CONFIRM,
            {
                "b_erasure_id": erasure_id,
                "b_participant": participant,
                "b_counts": data["counts"],
                "b_retained": data["retained"],
                "b_completed_at": completed_at,
            },
        ).first()
        if confirmed is None:
            return "ignored"  # an unknown erasure, or a participant not waited for here
        session.execute(
            _LOG_CONFIRMATION,
            {
                "b_erasure_id": erasure_id,
                "b_at": datetime.now(UTC),
                "b_participant": participant,
                "b_event_id": event.id,
                "b_details": {"counts": data["counts"]},
            },
        )
        if confirmed.confirmations > 1:
            return None  # asked again and answered again: counted once
        remaining = session.execute(_COUNT_DOWN, {"b_erasure_id": erasure_id}).one()
        if remaining.status == "open" and remaining.waiting == 0:
            erasure = session.get(Erasure, erasure_id, populate_existing=True)
            assert erasure is not None  # its row was just updated
            self._finish(session, erasure)
        return None

    def _finish(self, session: Session, erasure: Erasure) -> None:
        erasure.status = "finished"
        erasure.finished_at = datetime.now(UTC)
        log(session, erasure, "finished")
        overrun = late_by(erasure, erasure.finished_at)
        if overrun is not None:
            late = {"late_by_seconds": int(overrun.total_seconds())}
            log(session, erasure, "deadline_missed", details=late)
        participants = sorted(self.settings.policy.participants)
        publish(
            session,
            Event(
                type="consent.erasure.finished",
                school_id=erasure.school_id,
                data={
                    "erasure_id": erasure.id,
                    "reason": erasure.reason,
                    "subjects": erasure.subjects,
                    "participants": participants,
                    "finished_at": iso_utc(erasure.finished_at),
                    "deadline": iso_utc(erasure.deadline),
                    "act_url": f"/api/consent/v1/erasures/{erasure.id}/act.pdf",
                },
            ),
        )

    # --- the sweep: asking again, warning -----------------------------------------------

    def sweep(self, session: Session, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        open_ones = session.scalars(
            select(Erasure).where(Erasure.status == "open").with_for_update(skip_locked=True)
        )
        for erasure in open_ones:
            # Most open erasures are simply young: only those due for a step cost a query.
            if as_utc(erasure.last_asked_at) + self.settings.ask_again_after <= now:
                self._ask_again(session, erasure, self.missing(session, erasure), now)
            if erasure.overdue_raised_at is None and now >= self.warning_point(erasure):
                self._raise_overdue(session, erasure, self.missing(session, erasure), now)

    def warning_point(self, erasure: Erasure) -> datetime:
        received, deadline = as_utc(erasure.received_at), as_utc(erasure.deadline)
        return received + timedelta(
            seconds=(deadline - received).total_seconds() * self.settings.warn_share
        )

    @staticmethod
    def missing(session: Session, erasure: Erasure) -> list[str]:
        return sorted(
            session.scalars(
                select(ErasureParticipant.participant).where(
                    ErasureParticipant.erasure_id == erasure.id,
                    ErasureParticipant.confirmed_at.is_(None),
                )
            )
        )

    def _ask_again(
        self, session: Session, erasure: Erasure, missing: list[str], now: datetime
    ) -> None:
        erasure.attempt += 1
        erasure.last_asked_at = now
        log(
            session,
            erasure,
            "asked_again",
            details={"attempt": erasure.attempt, "waiting_for": missing},
        )
        publish(session, self._request_event(erasure))

    def _raise_overdue(
        self, session: Session, erasure: Erasure, missing: list[str], now: datetime
    ) -> None:
        erasure.overdue_raised_at = now
        log(session, erasure, "overdue_raised", details={"waiting_for": missing})
        publish(
            session,
            Event(
                type="consent.erasure.overdue",
                school_id=erasure.school_id,
                data={
                    "erasure_id": erasure.id,
                    "deadline": iso_utc(erasure.deadline),
                    "missing_participants": missing,
                    "raised_at": iso_utc(now),
                },
            ),
        )


def log(
    session: Session,
    erasure: Erasure,
    what: str,
    *,
    participant: str | None = None,
    event_id: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    log_entry(
        session, erasure.id, what, participant=participant, event_id=event_id, details=details
    )


def log_entry(
    session: Session,
    erasure_id: str,
    what: str,
    *,
    participant: str | None = None,
    event_id: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    session.add(
        ErasureLogEntry(
            erasure_id=erasure_id,
            at=datetime.now(UTC),
            what=what,
            participant=participant,
            event_id=event_id,
            details=details or {},
        )
    )
