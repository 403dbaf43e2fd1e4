"""What the notify API accepts and returns (marshmallow); listed in its OpenAPI document."""

from marshmallow import Schema, fields

from schoolkit import times


class PreferenceSchema(Schema):
    person_id = fields.String(dump_only=True)
    email = fields.Boolean(required=True, metadata={"description": "Send e-mail."})
    sms = fields.Boolean(required=True, metadata={"description": "Send SMS."})
    legal_notices_always_sent = fields.Boolean(
        dump_only=True,
        metadata={"description": "Notices the law demands (blocking, destruction) ignore these."},
    )


class DeliverySchema(Schema):
    """A delivery as staff see it: ids and status, never the address or the text."""

    id = fields.String()
    recipient_id = fields.String()
    channel = fields.String()
    notice = fields.String()
    about_event_type = fields.String()
    about_event_id = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = times.DateTime()
    finished_at = times.DateTime(allow_none=True)


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next = fields.String(
        allow_none=True, metadata={"description": "The next page's cursor; null on the last."}
    )


SCHEMAS: dict[str, type[Schema]] = {
    "Preference": PreferenceSchema,
    "Delivery": DeliverySchema,
    "DeliveryPage": DeliveryPageSchema,
}
