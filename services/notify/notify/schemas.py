"""What the notify API accepts and returns (marshmallow); listed in its OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from notify import categories
from notify.planning import WEEKDAYS, parse_clock
from schoolkit import times

CHOOSABLE = [c for c in categories.CATEGORIES if c not in categories.LEGAL]


def _clock(value: str) -> None:
    try:
        parse_clock(value)
    except ValueError as error:
        raise ValidationError("A time of day as HH:MM (00:00–23:59).") from error


class QuietHoursSchema(Schema):
    start = fields.String(
        required=True, data_key="from", validate=_clock, metadata={"description": "HH:MM"}
    )
    until = fields.String(required=True, validate=_clock, metadata={"description": "HH:MM"})


class PreferenceSchema(Schema):
    """What a person wants to hear; each field left out keeps what was chosen before."""

    person_id = fields.String(dump_only=True)
    email = fields.Boolean(metadata={"description": "E-mail at all (false: none but legal)."})
    sms = fields.Boolean(metadata={"description": "SMS at all (false: none but legal)."})
    categories = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
        metadata={
            "description": "Per category and channel (email, sms, push): immediately, daily, "
            "weekly or never. Sent: only what changes; answered: every category."
        },
    )
    quiet_hours = fields.Nested(
        QuietHoursSchema,
        metadata={"description": "Held until it ends, on the school's clock (21:00–08:00)."},
    )
    digest_at = fields.String(
        validate=_clock, metadata={"description": "When daily and weekly digests leave."}
    )
    weekly_on = fields.String(validate=validate.OneOf(WEEKDAYS))
    time_zone = fields.String(dump_only=True, metadata={"description": "The school's zone."})
    legal_notices_always_sent = fields.Boolean(
        dump_only=True,
        metadata={
            "description": "Notices the law demands (blocking, termination, destruction) "
            "ignore these, quiet hours included."
        },
    )

    @validates_schema
    def _known_choices(self, data: dict[str, Any], **_: Any) -> None:
        """Errors named as `categories.<category>.<channel>`, so a client can point at it."""
        problems: dict[str, Any] = {}
        for category, chosen in data.get("categories", {}).items():
            if category not in CHOOSABLE:
                problems[category] = ["Not a category one can choose (legal notices always go)."]
                continue
            wrong = {
                channel: [f"One of {', '.join(categories.CADENCES)} for a known channel."]
                for channel, cadence in chosen.items()
                if channel not in categories.CHANNELS or cadence not in categories.CADENCES
            }
            if wrong:
                problems[category] = wrong
        if problems:
            raise ValidationError({"categories": problems})

    @validates_schema
    def _window_not_empty(self, data: dict[str, Any], **_: Any) -> None:
        window = data.get("quiet_hours")
        if window and window["start"] == window["until"]:
            raise ValidationError("The quiet hours must not start when they end.", "quiet_hours")


class TemplateSchema(Schema):
    """A school's wording of one category's news in one language."""

    category = fields.String(required=True, validate=validate.OneOf(categories.CATEGORIES))
    language = fields.String(required=True, validate=validate.OneOf(("ru", "en")))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "One line with {child} and the category's placeholders."},
    )
    version = fields.Integer(dump_only=True, allow_none=True)
    builtin = fields.Boolean(dump_only=True, metadata={"description": "Notify's own wording."})
    placeholders = fields.List(fields.String(), dump_only=True)
    preview = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        dump_only=True,
        metadata={"description": "The template filled with a long name and sample facts."},
    )
    saved_at = times.DateTime(dump_only=True, allow_none=True)


class TemplateListSchema(Schema):
    items = fields.List(fields.Nested(TemplateSchema))


class DeliverySchema(Schema):
    """A delivery as staff see it: ids and status, never the address or the text."""

    id = fields.String()
    recipient_id = fields.String()
    channel = fields.String()
    notice = fields.String()
    category = fields.String(allow_none=True)
    student_id = fields.String(allow_none=True)
    cadence = fields.String()
    about_event_type = fields.String()
    about_event_id = fields.String()
    status = fields.String()
    state = fields.Method(
        "_state",
        metadata={
            "description": "The status as providers name theirs (GOV.UK Notify's words): "
            "created, sending, sent, delivered, permanent-failure, temporary-failure, "
            "technical-failure, cancelled."
        },
    )
    planned_at = times.DateTime(metadata={"description": "When it leaves (or is tried again)."})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = times.DateTime()
    finished_at = times.DateTime(allow_none=True)

    @staticmethod
    def _state(delivery: Any) -> str:
        return delivery_state(delivery.status, delivery.last_error)


# Why a delivery was given up, in the words providers use for it.
PERMANENT = frozenset({"invalid_address", "rejected", "no_contact", "bounced"})
TECHNICAL = frozenset({"outcome_unknown"})


def delivery_state(status: str, last_error: str | None) -> str:
    if status in ("created", "pending", "claimed"):
        return "created"
    if status != "failed":
        return status
    if last_error in PERMANENT:
        return "permanent-failure"
    return "technical-failure" if last_error in TECHNICAL else "temporary-failure"


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next = fields.String(
        allow_none=True, metadata={"description": "The next page's cursor; null on the last."}
    )


SCHEMAS: dict[str, type[Schema]] = {
    "Preference": PreferenceSchema,
    "Template": TemplateSchema,
    "TemplateList": TemplateListSchema,
    "Delivery": DeliverySchema,
    "DeliveryPage": DeliveryPageSchema,
}
