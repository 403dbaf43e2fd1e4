"""The query parameters of the reports (marshmallow), listed in the OpenAPI document.

A bad parameter is a 422 naming it, like any bad body (schoolkit.errors).
"""

from typing import Any

from flask import request
from marshmallow import EXCLUDE, Schema, fields, validate


class _Query(Schema):
    class Meta:
        unknown = EXCLUDE  # a cache-busting parameter is not an error


class ReportQuerySchema(_Query):
    period_id = fields.UUID(load_default=None)


class PrintableQuerySchema(ReportQuerySchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "pdf", "xlsx")),
        metadata={"description": "pdf and xlsx need a period_id."},
    )


class ChecksQuerySchema(_Query):
    period_id = fields.UUID(required=True)
    as_of = fields.Date(load_default=None, metadata={"description": "Defaults to today."})
    min_marks = fields.Integer(load_default=3, validate=validate.Range(0, 100))


class ComplianceQuerySchema(_Query):
    period_id = fields.UUID(required=True)
    as_of = fields.Date(load_default=None, metadata={"description": "Defaults to today."})
    late_after_days = fields.Integer(load_default=1, validate=validate.Range(0, 60))


class SheetQuerySchema(_Query):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "pdf", "xlsx")))


def load_query(schema: Schema) -> dict[str, Any]:
    """The request's query parameters, validated; UUIDs come back as strings."""
    loaded: dict[str, Any] = schema.load(request.args.to_dict())
    return {
        name: str(value) if name.endswith("_id") and value else value
        for name, value in loaded.items()
    }


REPORT_SCHEMAS: dict[str, type[Schema]] = {
    "ReportQuery": ReportQuerySchema,
    "PrintableQuery": PrintableQuerySchema,
    "ChecksQuery": ChecksQuerySchema,
    "ComplianceQuery": ComplianceQuerySchema,
    "SheetQuery": SheetQuerySchema,
}
