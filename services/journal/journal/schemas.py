"""What the journal API accepts and returns (marshmallow); listed in its OpenAPI document."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

PERIOD_KINDS = ("quarter", "trimester", "half_year", "module", "year", "other")


class _DateRange(Schema):
    """Bounds are inclusive; a range that ends before it starts is refused by field."""

    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)

    @validates_schema
    def _ends_after_start(self, data: dict[str, Any], **_: Any) -> None:
        if "starts_on" in data and "ends_on" in data and data["ends_on"] < data["starts_on"]:
            raise ValidationError("Must not be before starts_on.", "ends_on")


class YearSchema(_DateRange):
    year_id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(1, 40))


class PeriodSchema(_DateRange):
    period_id = fields.String(dump_only=True)
    year_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PERIOD_KINDS))
    name = fields.String(required=True, validate=validate.Length(1, 80))


class HolidaySchema(_DateRange):
    holiday_id = fields.String(dump_only=True)
    year_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 120))


class SubjectSchema(Schema):
    subject_id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(1, 120))
    short_name = fields.String(load_default=None, validate=validate.Length(1, 40))
    removed = fields.Boolean(dump_only=True)


class ClassSchema(Schema):
    class_id = fields.String(dump_only=True)
    year_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 20))
    grade = fields.Integer(required=True, validate=validate.Range(0, 12))
    class_teacher_id = fields.UUID(load_default=None)


class ClassChangeSchema(Schema):
    """A partial change of a class: rename, regrade or appoint another class teacher."""

    name = fields.String(validate=validate.Length(1, 20))
    grade = fields.Integer(validate=validate.Range(0, 12))
    class_teacher_id = fields.UUID(allow_none=True)


class AssignmentSchema(Schema):
    assignment_id = fields.String(dump_only=True)
    teacher_id = fields.UUID(required=True)
    subject_id = fields.UUID(required=True)
    class_id = fields.UUID(required=True)
    hours_per_week = fields.Integer(load_default=None, validate=validate.Range(1, 40))


SCHEMAS: dict[str, type[Schema]] = {
    "Year": YearSchema,
    "Period": PeriodSchema,
    "Holiday": HolidaySchema,
    "Subject": SubjectSchema,
    "SchoolClass": ClassSchema,
    "ClassChange": ClassChangeSchema,
    "Assignment": AssignmentSchema,
}
