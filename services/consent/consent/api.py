"""The consent HTTP API under /api/consent/v1: thin routes (parse, call, serialise)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from consent import access, registry
from consent.act import act_of, act_pdf
from consent.application import application_pdf
from consent.coordinator import Coordinator, late_by
from consent.models import Agreement, Consent, Erasure, ErasureParticipant, Template
from consent.schemas import (
    AgreementInSchema,
    AgreementSchema,
    ConsentInSchema,
    ConsentSchema,
    ErasureSchema,
    TemplateSchema,
    TemplateWithTextSchema,
    TerminationSchema,
    VersionDecisionSchema,
    WithdrawalSchema,
    WithdrawnSchema,
)
from schoolkit.auth import (
    ADMINISTRATOR,
    CLASS_TEACHER,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    current_principal,
    require_auth,
    require_roles,
)
from schoolkit.errors import ApiError, load_json
from schoolkit.events import iso_utc
from schoolkit.web import db_session

blueprint = Blueprint("consent", __name__, url_prefix="/v1")

# R-ROLE-2, R-ROLE-3, R-CON-5: class teachers register consents and applications for
# their own class's families (consent/access.py); the school's leadership controls them;
# administrators run the registry.
REGISTRARS = (CLASS_TEACHER, DEPUTY_DIRECTOR, DIRECTOR, ADMINISTRATOR)
ERASURE_READERS = (DEPUTY_DIRECTOR, DIRECTOR, ADMINISTRATOR)


def _coordinator() -> Coordinator:
    return current_app.extensions["consent_coordinator"]  # type: ignore[no-any-return]


def _staff() -> access.Staff:
    principal = current_principal()
    return access.Staff(principal.user_id, principal.school_id, principal.roles)


def _own(model: type[Any], entity_id: str, what: str) -> Any:
    """The school's own record, or 404 (another school's looks like none at all)."""
    found = db_session().get(model, entity_id)
    if found is None or found.school_id != current_principal().school_id:
        raise ApiError(404, "not_found", f"No such {what}.")
    return found


def _reached(model: type[Consent] | type[Agreement], entity_id: str, what: str) -> Any:
    """A family's record the caller reaches, or the same 404 as for none at all: a class
    teacher does not learn that another class's family has a consent (R-ROLE-3)."""
    found = _own(model, entity_id, what)
    if not access.reaches(db_session(), _staff(), found.student_id):
        raise ApiError(404, "not_found", f"No such {what}.")
    return found


def _ids_as_text(form: dict[str, Any]) -> dict[str, Any]:
    return {key: str(value) if key.endswith("_id") else value for key, value in form.items()}


@blueprint.get("/templates")
@require_auth
def list_templates() -> Any:
    """The consent documents and their versions.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: {type: array, items: Template}
    """
    found = db_session().scalars(select(Template).order_by(Template.kind, Template.version))
    return TemplateSchema(many=True).dump(list(found))


@blueprint.get("/templates/<template_id>")
@require_auth
def read_template(template_id: str) -> Any:
    """One version with its full text.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: TemplateWithText
        404: NotFound
    """
    template = db_session().get(Template, template_id)
    if template is None:
        raise ApiError(404, "not_found", "No such template.")
    return TemplateWithTextSchema().dump(template)


@blueprint.post("/consents")
@require_roles(*REGISTRARS)
def register_consent() -> Any:
    """Register a signed paper consent, or a refusal (R-CON-1, R-CON-5).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: ConsentIn
      responses:
        201:
          content:
            application/json:
              schema: Consent
        422: ValidationFailed
    """
    form = _ids_as_text(load_json(ConsentInSchema()))
    session = db_session()
    consent = registry.register_consent(session, _staff(), form)
    session.commit()
    return ConsentSchema().dump(consent), 201


@blueprint.get("/consents")
@require_roles(*REGISTRARS)
def list_consents() -> Any:
    """Consents and refusals of the school, by student or guardian.
    ---
    get:
      parameters:
      - {in: query, name: student_id, schema: {type: string}}
      - {in: query, name: guardian_id, schema: {type: string}}
      - {in: query, name: status, schema: {type: string}}
      responses:
        200:
          content:
            application/json:
              schema: {type: array, items: Consent}
    """
    query = select(Consent).where(Consent.school_id == current_principal().school_id)
    query = access.reachable(query, _staff(), Consent.student_id)
    for name in ("student_id", "guardian_id", "status"):
        if value := request.args.get(name):
            query = query.where(getattr(Consent, name) == value)
    found = db_session().scalars(query.order_by(Consent.registered_at).limit(500))
    return ConsentSchema(many=True).dump(list(found))


@blueprint.get("/consents/<consent_id>")
@require_roles(*REGISTRARS)
def read_consent(consent_id: str) -> Any:
    """One consent record.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: Consent
        404: NotFound
    """
    return ConsentSchema().dump(_reached(Consent, consent_id, "consent"))


@blueprint.post("/consents/<consent_id>/withdrawal")
@require_roles(*REGISTRARS)
def withdraw_consent(consent_id: str) -> Any:
    """Register the guardian's written revocation: processing stops, the erasure opens (R-PD-2).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: Withdrawal
      responses:
        200:
          description: The consent as withdrawn, the erasure request it opened, and warnings
            when the revocation was registered late.
          content:
            application/json:
              schema: Withdrawn
        404: NotFound
        409:
          description: The consent is not in force (refused, withdrawn or ended).
        422: ValidationFailed
    """
    consent = _reached(Consent, consent_id, "consent")
    form = load_json(WithdrawalSchema())
    session = db_session()
    erasure = registry.withdraw_consent(
        session,
        _coordinator(),
        _staff(),
        consent,
        received_at=form["received_at"],
        reason=form["reason"],
    )
    session.commit()
    warnings = [warning.to_dict() for warning in _coordinator().warnings(erasure)]
    return WithdrawnSchema().dump(
        {"consent": consent, "erasure_id": erasure.id, "warnings": warnings}
    )


@blueprint.post("/agreements")
@require_roles(*REGISTRARS)
def conclude_agreement() -> Any:
    """Register the guardian's application: the diary agreement is concluded (R-CON-2).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: AgreementIn
      responses:
        201:
          content:
            application/json:
              schema: Agreement
        409:
          description: An agreement for this guardian and student is already in force.
        422: ValidationFailed
    """
    form = _ids_as_text(load_json(AgreementInSchema()))
    session = db_session()
    agreement = registry.conclude_agreement(session, _staff(), form)
    session.commit()
    return AgreementSchema().dump(agreement), 201


@blueprint.get("/agreements")
@require_roles(*REGISTRARS)
def list_agreements() -> Any:
    """Diary agreements of the school.
    ---
    get:
      parameters:
      - {in: query, name: student_id, schema: {type: string}}
      - {in: query, name: guardian_id, schema: {type: string}}
      responses:
        200:
          content:
            application/json:
              schema: {type: array, items: Agreement}
    """
    query = select(Agreement).where(Agreement.school_id == current_principal().school_id)
    query = access.reachable(query, _staff(), Agreement.student_id)
    for name in ("student_id", "guardian_id", "status"):
        if value := request.args.get(name):
            query = query.where(getattr(Agreement, name) == value)
    found = db_session().scalars(query.order_by(Agreement.concluded_at).limit(500))
    return AgreementSchema(many=True).dump(list(found))


@blueprint.get("/agreements/<agreement_id>")
@require_roles(*REGISTRARS)
def read_agreement(agreement_id: str) -> Any:
    """One agreement.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: Agreement
        404: NotFound
    """
    return AgreementSchema().dump(_reached(Agreement, agreement_id, "agreement"))


@blueprint.get("/agreements/<agreement_id>/application.pdf")
@require_roles(*REGISTRARS)
def agreement_application(agreement_id: str) -> Any:
    """The guardian's copy of the application with the registration mark (R-CON-2).
    ---
    get:
      responses:
        200:
          description: A PDF.
          content:
            application/pdf: {}
        404: NotFound
    """
    agreement = _reached(Agreement, agreement_id, "agreement")
    template = db_session().get(Template, agreement.template_id)
    return Response(application_pdf(agreement, template), mimetype="application/pdf")


@blueprint.post("/agreements/<agreement_id>/version")
@require_roles(*REGISTRARS)
def decide_on_new_version(agreement_id: str) -> Any:
    """The guardian accepts the newest version, or refuses and stays on theirs (R-CON-3).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: VersionDecision
      responses:
        200:
          content:
            application/json:
              schema: Agreement
        409:
          description: The agreement has ended.
    """
    agreement = _reached(Agreement, agreement_id, "agreement")
    accepted = load_json(VersionDecisionSchema())["accepted"]
    session = db_session()
    registry.accept_new_version(session, agreement, accepted)
    session.commit()
    return AgreementSchema().dump(agreement)


@blueprint.post("/agreements/<agreement_id>/termination")
@require_roles(*REGISTRARS)
def terminate_agreement(agreement_id: str) -> Any:
    """End the agreement: by the guardian at once, by the school at the stated time (R-CON-4).
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: Termination
      responses:
        200:
          content:
            application/json:
              schema: Agreement
        409:
          description: The agreement has already ended.
        422: ValidationFailed
    """
    agreement = _reached(Agreement, agreement_id, "agreement")
    form = load_json(TerminationSchema())
    now = datetime.now(UTC)
    if form["by"] == "school" and form["effective_at"] is None:
        raise ApiError(
            422,
            "effective_at_required",
            "The school states when its termination takes effect.",
            {"effective_at": "required"},
        )
    effective_at = now if form["by"] == "guardian" else form["effective_at"]
    session = db_session()
    registry.terminate_agreement(
        session, _coordinator(), _staff(), agreement, by=form["by"], effective_at=effective_at
    )
    session.commit()
    return AgreementSchema().dump(agreement)


def _erasure_view(erasure: Erasure) -> dict[str, Any]:
    parts = db_session().scalars(
        select(ErasureParticipant)
        .where(ErasureParticipant.erasure_id == erasure.id)
        .order_by(ErasureParticipant.participant)
    )
    view = ErasureSchema(exclude=("participants", "deadline_missed", "late_by_seconds")).dump(
        erasure
    )
    overrun = late_by(erasure, datetime.now(UTC))
    view["deadline_missed"] = overrun is not None
    view["late_by_seconds"] = int(overrun.total_seconds()) if overrun else 0
    view["participants"] = [
        {
            "participant": p.participant,
            "state": "confirmed" if p.confirmed_at else "waiting",
            "confirmed_at": iso_utc(p.confirmed_at) if p.confirmed_at else None,
            "confirmations": p.confirmations,
            "counts": p.counts,
            "retained": p.retained,
        }
        for p in parts
    ]
    return view


ERASURE_STATES = frozenset({"open", "finished"})


@blueprint.get("/erasures")
@require_roles(*ERASURE_READERS)
def list_erasures() -> Any:
    """Erasure requests of the school, newest first.
    ---
    get:
      parameters:
      - {in: query, name: status, schema: {type: string, enum: [open, finished]}}
      responses:
        200:
          content:
            application/json:
              schema: {type: array, items: Erasure}
        422: ValidationFailed
    """
    query = select(Erasure).where(Erasure.school_id == current_principal().school_id)
    if status := request.args.get("status"):
        if status not in ERASURE_STATES:
            fields = {"status": "One of: open, finished."}
            raise ApiError(422, "validation_failed", "Unknown status.", fields)
        query = query.where(Erasure.status == status)
    found = db_session().scalars(query.order_by(Erasure.received_at.desc()).limit(200))
    return [_erasure_view(erasure) for erasure in found]


@blueprint.get("/erasures/<erasure_id>")
@require_roles(*ERASURE_READERS)
def read_erasure(erasure_id: str) -> Any:
    """One erasure: each participant's state, counts and times.
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: Erasure
        404: NotFound
    """
    return _erasure_view(_own(Erasure, erasure_id, "erasure"))


def _finished(erasure_id: str) -> Erasure:
    erasure = _own(Erasure, erasure_id, "erasure")
    if erasure.status != "finished":
        raise ApiError(
            409, "erasure_not_finished", "The act is drawn up once every participant has confirmed."
        )
    return erasure


@blueprint.get("/erasures/<erasure_id>/act.json")
@require_roles(*ERASURE_READERS)
def act_json(erasure_id: str) -> Any:
    """The act of destruction with the extract of the event log (R-PD-4).
    ---
    get:
      responses:
        200:
          description: The act.
        404: NotFound
        409:
          description: The erasure has not finished yet.
    """
    return act_of(db_session(), _finished(erasure_id), _coordinator().settings)


@blueprint.get("/erasures/<erasure_id>/act.pdf")
@require_roles(*ERASURE_READERS)
def act_as_pdf(erasure_id: str) -> Any:
    """The act of destruction, printable (R-PD-4).
    ---
    get:
      responses:
        200:
          description: A PDF.
          content:
            application/pdf: {}
        404: NotFound
        409:
          description: The erasure has not finished yet.
    """
    act = act_of(db_session(), _finished(erasure_id), _coordinator().settings)
    return Response(act_pdf(act), mimetype="application/pdf")
