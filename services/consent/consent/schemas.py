"""What the consent API accepts and returns (marshmallow); listed in its OpenAPI document."""

from marshmallow import Schema, fields, validate

from schoolkit.times import AwareDateTime, DateTime

# A template's versions are counted from 1; a number past any database integer is a 422.
TEMPLATE_VERSIONS = 1_000_000


class TemplateSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "processing or diary_agreement"})
    version = fields.Integer()
    title = fields.String()
    purposes = fields.List(fields.String())
    guardian_categories = fields.List(fields.String())
    student_categories = fields.List(fields.String())
    actions = fields.List(fields.String())
    recipients = fields.List(fields.String())
    validity = fields.String()
    effective_from = fields.Date()


class TemplateWithTextSchema(TemplateSchema):
    text = fields.String()


class ConsentInSchema(Schema):
    guardian_id = fields.UUID(required=True)
    student_id = fields.UUID(required=True)
    representation = fields.String(
        required=True,
        validate=validate.OneOf(["parent", "legal_representative", "guardian_by_decision"]),
    )
    decision = fields.String(required=True, validate=validate.OneOf(["given", "refused"]))
    signed_on = fields.Date(required=True)
    method = fields.String(load_default="paper", validate=validate.OneOf(["paper", "electronic"]))
    template_version = fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=TEMPLATE_VERSIONS)
    )
    purposes = fields.List(fields.String(), load_default=None)


class ConsentSchema(Schema):
    id = fields.String()
    guardian_id = fields.String()
    student_id = fields.String()
    representation = fields.String()
    template_id = fields.String()
    controller = fields.String(attribute="school_id")
    purposes = fields.List(fields.String())
    categories = fields.List(fields.String())
    legal_basis = fields.String()
    method = fields.String()
    status = fields.String(metadata={"description": "given, refused, withdrawn or ended"})
    signed_on = fields.Date()
    registered_at = DateTime()
    registered_by = fields.String(metadata={"description": "The staff member who registered it."})
    withdrawn_at = DateTime(
        allow_none=True, metadata={"description": "When the written revocation arrived."}
    )
    withdrawn_by = fields.String(
        allow_none=True, metadata={"description": "The staff member who registered the revocation."}
    )
    withdrawal_reason = fields.String(allow_none=True)


class WithdrawalSchema(Schema):
    received_at = AwareDateTime(
        required=True, metadata={"description": "When the written revocation arrived."}
    )
    reason = fields.String(
        load_default="withdrawn_by_guardian",
        validate=validate.OneOf(["withdrawn_by_guardian", "purpose_ended"]),
    )


class AgreementInSchema(Schema):
    guardian_id = fields.UUID(required=True)
    student_id = fields.UUID(required=True)
    applied_on = fields.Date(required=True)
    template_version = fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=TEMPLATE_VERSIONS)
    )


class AgreementSchema(Schema):
    id = fields.String()
    guardian_id = fields.String()
    student_id = fields.String()
    template_id = fields.String()
    registration_number = fields.String()
    status = fields.String(metadata={"description": "in_force or terminated"})
    applied_on = fields.Date()
    concluded_at = DateTime()
    registered_by = fields.String(metadata={"description": "The staff member who registered it."})
    terminated_by = fields.String(
        allow_none=True, metadata={"description": "guardian, school, graduation or transfer"}
    )
    termination_registered_by = fields.String(
        allow_none=True,
        metadata={"description": "The staff member who registered the termination."},
    )
    effective_at = DateTime(allow_none=True)


class VersionDecisionSchema(Schema):
    accepted = fields.Boolean(required=True)


class TerminationSchema(Schema):
    by = fields.String(required=True, validate=validate.OneOf(["guardian", "school"]))
    effective_at = AwareDateTime(load_default=None)


class WarningSchema(Schema):
    code = fields.String(metadata={"description": "registered_late or deadline_missed"})
    message = fields.String()


class WithdrawnSchema(Schema):
    consent = fields.Nested(ConsentSchema)
    erasure_id = fields.String()
    warnings = fields.List(fields.Nested(WarningSchema))


class ParticipantStateSchema(Schema):
    participant = fields.String()
    state = fields.String(metadata={"description": "waiting or confirmed"})
    confirmed_at = DateTime(allow_none=True)
    confirmations = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    retained = fields.List(fields.Dict())


class ErasureSchema(Schema):
    id = fields.String()
    reason = fields.String()
    status = fields.String(metadata={"description": "open or finished"})
    subjects = fields.List(fields.Dict())
    categories = fields.List(fields.String())
    retain = fields.List(fields.Dict())
    received_at = DateTime()
    deadline = DateTime()
    attempt = fields.Integer()
    overdue_raised_at = DateTime(allow_none=True)
    finished_at = DateTime(allow_none=True)
    deadline_missed = fields.Boolean(
        metadata={"description": "Finished (or, open, still running) past the deadline."}
    )
    late_by_seconds = fields.Integer(metadata={"description": "By how much; 0 when in time."})
    participants = fields.List(fields.Nested(ParticipantStateSchema))


SCHEMAS = {
    "Template": TemplateSchema,
    "TemplateWithText": TemplateWithTextSchema,
    "ConsentIn": ConsentInSchema,
    "Consent": ConsentSchema,
    "Withdrawal": WithdrawalSchema,
    "Withdrawn": WithdrawnSchema,
    "AgreementIn": AgreementInSchema,
    "Agreement": AgreementSchema,
    "VersionDecision": VersionDecisionSchema,
    "Termination": TerminationSchema,
    "Erasure": ErasureSchema,
}
