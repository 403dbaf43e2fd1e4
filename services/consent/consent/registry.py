"""Registering consents, refusals and diary agreements, and ending them (R-CON-1…5).

Each use case changes its rows, publishes what the other services must learn, and —
when processing must stop — opens the erasure, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from consent.access import CLOCK_SKEW, Staff, check_day, check_family, check_received_at
from consent.coordinator import Coordinator, Subject
from consent.models import Agreement, Consent, Erasure, Template
from consent.workdays import WorkingCalendar
from schoolkit.errors import ApiError
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish

# The legal basis of processing that a consent of annex 1 gives (152-FZ art. 6 p. 1 subp. 1).
CONSENT_BASIS = "Согласие субъекта, ст. 6 ч. 1 п. 1 Федерального закона № 152-ФЗ"

# A school announces its termination ahead (R-CON-4); a year is as far as a notice sensibly goes.
LONGEST_NOTICE = timedelta(days=366)


def school_today() -> date:
    return datetime.now(WorkingCalendar().timezone).date()


def template_of(session: Session, kind: str, version: int | None) -> Template:
    query = select(Template).where(Template.kind == kind)
    query = (
        query.where(Template.version == version)
        if version
        else query.order_by(Template.version.desc())
    )
    template = session.scalars(query).first()
    if template is None:
        raise ApiError(
            422,
            "unknown_template",
            f"There is no {kind} template version {version}.",
            {"template_version": "unknown"},
        )
    return template


def register_consent(session: Session, staff: Staff, form: dict) -> Consent:
    """A signed paper consent, or a refusal: both are recorded (R-CON-5)."""
    template = template_of(session, "processing", form.get("template_version"))
    check_day("signed_on", form["signed_on"], template.effective_from, school_today())
    check_family(session, staff, form["guardian_id"], form["student_id"])
    purposes = form.get("purposes") or template.purposes
    unknown = sorted(set(purposes) - set(template.purposes))
    if unknown:
        raise ApiError(
            422,
            "unknown_purpose",
            f"The template has no purpose {', '.join(unknown)}.",
            {"purposes": "unknown"},
        )
    consent = Consent(
        school_id=staff.school_id,
        guardian_id=form["guardian_id"],
        student_id=form["student_id"],
        representation=form["representation"],
        template_id=template.id,
        purposes=purposes,
        categories=sorted(set(template.guardian_categories) | set(template.student_categories)),
        legal_basis=CONSENT_BASIS,
        method=form.get("method", "paper"),
        status="given" if form["decision"] == "given" else "refused",
        signed_on=form["signed_on"],
        registered_at=datetime.now(UTC),
        registered_by=staff.user_id,
    )
    session.add(consent)
    session.flush()
    if consent.status == "given":
        publish(session, _given_event(consent, template))
    return consent


def _given_event(consent: Consent, template: Template) -> Event:
    return Event(
        type="consent.given",
        school_id=consent.school_id,
        subject=consent.student_id,
        data={
            "consent_id": consent.id,
            "guardian_id": consent.guardian_id,
            "student_id": consent.student_id,
            "template_id": template.id,
            "template_version": template.version,
            "purposes": consent.purposes,
            "categories": consent.categories,
            "method": consent.method,
            "given_on": consent.signed_on.isoformat(),
            "registered_at": iso_utc(consent.registered_at),
            "registered_by": consent.registered_by,
            "entity_version": consent.version,
        },
    )


def withdraw_consent(
    session: Session,
    coordinator: Coordinator,
    staff: Staff,
    consent: Consent,
    *,
    received_at: datetime,
    reason: str,
) -> Erasure:
    """R-PD-2: the written revocation is registered; processing stops; the erasure opens."""
    if consent.status != "given":
        raise ApiError(
            409, "consent_not_in_force", f"The consent is {consent.status}, not in force."
        )
    timezone = coordinator.settings.calendar.timezone
    check_received_at(received_at, consent.signed_on, datetime.now(UTC), timezone)
    consent.status = "withdrawn" if reason == "withdrawn_by_guardian" else "ended"
    consent.withdrawn_at = received_at
    consent.withdrawn_by = staff.user_id
    consent.withdrawal_reason = reason
    consent.version += 1
    revoked = Event(
        type="consent.revoked",
        school_id=consent.school_id,
        subject=consent.student_id,
        data={
            "consent_id": consent.id,
            "guardian_id": consent.guardian_id,
            "student_id": consent.student_id,
            "reason": reason,
            "received_at": iso_utc(received_at),
            "registered_by": staff.user_id,
            "entity_version": consent.version,
        },
    )
    publish(session, revoked)
    subjects = [Subject(consent.student_id, "student")]
    if not _other_consent_in_force(session, consent):
        subjects.append(Subject(consent.guardian_id, "guardian"))
    return coordinator.start(
        session,
        school_id=consent.school_id,
        reason="consent_revoked",
        subjects=subjects,
        trigger_event_id=revoked.id,
        received_at=received_at,
        registered_by=staff.user_id,
    )


def _other_consent_in_force(session: Session, consent: Consent) -> bool:
    """A guardian with another child under consent keeps their account and contacts."""
    other = select(Consent.id).where(
        Consent.guardian_id == consent.guardian_id,
        Consent.student_id != consent.student_id,
        Consent.status == "given",
    )
    return session.scalars(other).first() is not None


def conclude_agreement(session: Session, staff: Staff, form: dict) -> Agreement:
    """R-CON-2: the guardian's application is registered; the agreement is concluded."""
    template = template_of(session, "diary_agreement", form.get("template_version"))
    check_day("applied_on", form["applied_on"], template.effective_from, school_today())
    # Checked before the duplicate: a 409 must not tell another school that a family exists.
    check_family(session, staff, form["guardian_id"], form["student_id"])
    in_force = select(Agreement.id).where(
        Agreement.school_id == staff.school_id,
        Agreement.guardian_id == form["guardian_id"],
        Agreement.student_id == form["student_id"],
        Agreement.status == "in_force",
    )
    if session.scalars(in_force).first() is not None:
        raise ApiError(
            409,
            "agreement_exists",
            "This guardian already has an agreement in force for this student.",
        )
    agreement = Agreement(
        school_id=staff.school_id,
        guardian_id=form["guardian_id"],
        student_id=form["student_id"],
        template_id=template.id,
        registration_number=_next_registration_number(session, staff.school_id, form["applied_on"]),
        status="in_force",
        applied_on=form["applied_on"],
        concluded_at=datetime.now(UTC),
        registered_by=staff.user_id,
    )
    session.add(agreement)
    session.flush()
    publish(session, _concluded_event(agreement, template, "concluded"))
    return agreement


def _next_registration_number(session: Session, school_id: str, applied_on: date) -> str:
    count = (
        session.scalar(
            select(func.count()).select_from(Agreement).where(Agreement.school_id == school_id)
        )
        or 0
    )
    return f"ЭД-{applied_on.year}/{count + 1}"


def _concluded_event(agreement: Agreement, template: Template, change: str) -> Event:
    return Event(
        type="consent.agreement.concluded",
        school_id=agreement.school_id,
        subject=agreement.student_id,
        data={
            "agreement_id": agreement.id,
            "guardian_id": agreement.guardian_id,
            "student_id": agreement.student_id,
            "template_id": template.id,
            "template_version": template.version,
            "change": change,
            "registration_number": agreement.registration_number,
            "concluded_at": iso_utc(agreement.concluded_at),
            "registered_by": agreement.registered_by,
            "entity_version": agreement.version,
        },
    )


def accept_new_version(session: Session, agreement: Agreement, accepted: bool) -> Agreement:
    """R-CON-3: the guardian accepts the newest version, or refuses and keeps their own."""
    if agreement.status != "in_force":
        raise ApiError(409, "agreement_not_in_force", "The agreement has ended.")
    newest = template_of(session, "diary_agreement", None)
    if not accepted or newest.id == agreement.template_id:
        return agreement
    agreement.template_id = newest.id
    agreement.version += 1
    publish(session, _concluded_event(agreement, newest, "version_accepted"))
    return agreement


def terminate_agreement(
    session: Session,
    coordinator: Coordinator,
    staff: Staff,
    agreement: Agreement,
    *,
    by: str,
    effective_at: datetime,
) -> Agreement:
    """R-CON-4: by the guardian (at once), by the school (at the stated time), on leaving."""
    if agreement.status != "in_force":
        raise ApiError(409, "agreement_not_in_force", "The agreement has already ended.")
    if by == "school":
        _check_notice(effective_at, datetime.now(UTC))
    agreement.status = "terminated"
    agreement.terminated_by = by
    agreement.termination_registered_by = staff.user_id
    agreement.effective_at = effective_at
    agreement.version += 1
    publish(session, _terminated_event(agreement))
    start_due_agreement_erasures(session, coordinator)
    return agreement


def _check_notice(effective_at: datetime, now: datetime) -> None:
    """The school's termination takes effect at a stated time from now on, not in the past."""
    if effective_at < now - CLOCK_SKEW:
        raise ApiError(
            422, "date_in_past", "effective_at has passed.", {"effective_at": "in the past"}
        )
    if effective_at > now + LONGEST_NOTICE:
        raise ApiError(
            422,
            "date_too_late",
            "effective_at is more than a year ahead.",
            {"effective_at": "more than a year ahead"},
        )


def _terminated_event(agreement: Agreement) -> Event:
    return Event(
        type="consent.agreement.terminated",
        school_id=agreement.school_id,
        subject=agreement.student_id,
        data={
            "agreement_id": agreement.id,
            "guardian_id": agreement.guardian_id,
            "student_id": agreement.student_id,
            "by": agreement.terminated_by,
            "effective_at": iso_utc(agreement.effective_at or datetime.now(UTC)),
            "registered_at": iso_utc(datetime.now(UTC)),
            "entity_version": agreement.version,
        },
    )


def start_due_agreement_erasures(
    session: Session, coordinator: Coordinator, now: datetime | None = None
) -> None:
    """Agreements whose termination took effect get their erasure (run by the sweep too)."""
    now = now or datetime.now(UTC)
    due = session.scalars(
        select(Agreement).where(
            Agreement.status == "terminated",
            Agreement.erasure_trigger.is_(None),
            Agreement.terminated_by.in_(("guardian", "school")),
        )
    )
    for agreement in due:
        effective = agreement.effective_at or now
        if (effective if effective.tzinfo else effective.replace(tzinfo=UTC)) > now:
            continue
        agreement.erasure_trigger = agreement.id
        subjects = _left_without_a_diary(session, agreement)
        if not subjects:
            continue  # the diary still serves both: the agreement's end closes only this link
        coordinator.start(
            session,
            school_id=agreement.school_id,
            reason="agreement_terminated",
            subjects=subjects,
            trigger_event_id=agreement.id,
            received_at=effective if effective.tzinfo else effective.replace(tzinfo=UTC),
            registered_by=agreement.termination_registered_by,
        )


def _left_without_a_diary(session: Session, agreement: Agreement) -> list[Subject]:
    """Whose diary this termination ends: the student, unless another guardian's agreement
    for them is in force (the diary serves that guardian still), and the guardian, unless
    they have an agreement for another child (erased, the guardian would be buried in the
    diary and lose that child's too)."""
    others_in_force = select(Agreement.id).where(
        Agreement.status == "in_force", Agreement.id != agreement.id
    )
    subjects = []
    if _none(session, others_in_force.where(Agreement.student_id == agreement.student_id)):
        subjects.append(Subject(agreement.student_id, "student"))
    if _none(session, others_in_force.where(Agreement.guardian_id == agreement.guardian_id)):
        subjects.append(Subject(agreement.guardian_id, "guardian"))
    return subjects


def _none(session: Session, query: Select[tuple[str]]) -> bool:
    return session.scalars(query.limit(1)).first() is None


def student_left(session: Session, coordinator: Coordinator, event: Event) -> None:
    """R-PD-3: the student left; consents end, agreements end, the erasure opens."""
    data = event.data
    student_id = data["student_id"]
    by = "graduation" if data["reason"] == "graduation" else "transfer"
    ended = list(
        session.scalars(
            select(Consent).where(Consent.student_id == student_id, Consent.status == "given")
        )
    )
    for consent in ended:
        consent.status = "ended"
        consent.withdrawal_reason = "purpose_ended"
        consent.version += 1
    agreements = select(Agreement).where(
        Agreement.student_id == student_id, Agreement.status == "in_force"
    )
    for agreement in session.scalars(agreements):
        agreement.status = "terminated"
        agreement.terminated_by = by
        agreement.effective_at = datetime.now(UTC)
        agreement.erasure_trigger = event.id
        agreement.version += 1
        publish(session, _terminated_event(agreement))
    # A guardian's data was held for this child: it goes too, unless another child of
    # theirs is still under consent (as when a consent is withdrawn).
    guardians = sorted(
        {consent.guardian_id for consent in ended if not _other_consent_in_force(session, consent)}
    )
    coordinator.start(
        session,
        school_id=event.school_id,
        reason="student_left",
        subjects=[
            Subject(student_id, "student"),
            *(Subject(guardian_id, "guardian") for guardian_id in guardians),
        ],
        trigger_event_id=event.id,
        received_at=datetime.fromisoformat(event.time.replace("Z", "+00:00")),
    )
