"""What the diary API accepts and returns (marshmallow); listed in its OpenAPI document."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schoolkit import times

SCHOOL_TIME = "The school's local time with its offset (SCHOOL_TIMEZONE)."
LESSON_START = "2025-09-01T09:15:00+03:00"
LONGEST_RANGE = timedelta(days=366)  # a school year, leap day included
# Days a diary can be asked about: far wider than any school's, narrow enough that a week
# or a range around them stays within Python's dates (9999-12-31's week would not).
SCHOOL_DATES = validate.Range(
    min=date(1900, 1, 1), max=date(2199, 12, 31), error="Must be between 1900 and 2199."
)


class WeekQuery(Schema):
    date = fields.Date(
        load_default=None, validate=SCHOOL_DATES, metadata={"description": "Any day of the week."}
    )


class RangeQuery(Schema):
    """An inclusive date range no longer than a school year (bad input is a 422)."""

    from_ = fields.Date(data_key="from", load_default=None, validate=SCHOOL_DATES)
    to = fields.Date(load_default=None, validate=SCHOOL_DATES)

    @validates_schema
    def _sane_range(self, data: dict[str, Any], **_: Any) -> None:
        starts, ends = data.get("from_"), data.get("to")
        if starts and ends and starts > ends:
            raise ValidationError("Must not be before 'from'.", "to")
        if starts and ends and ends - starts > LONGEST_RANGE:
            raise ValidationError("The range may not be longer than a school year.", "to")


class MarksQuery(Schema):
    period_id = fields.UUID(load_default=None, metadata={"description": "Default: today's period."})


class ClassAcknowledgementsQuery(Schema):
    up_to = fields.Date(
        load_default=None, validate=SCHOOL_DATES, metadata={"description": "Default: yesterday."}
    )


class ItemSchema(Schema):
    type = fields.String(
        required=True, validate=validate.OneOf(["message", "mark", "homework", "lesson"])
    )
    id = fields.UUID(required=True)


class AcknowledgementRequest(Schema):
    scope = fields.String(required=True, validate=validate.OneOf(["diary", "item"]))
    until = fields.Date(
        validate=SCHOOL_DATES, metadata={"description": "Read up to this day (scope diary)."}
    )
    item = fields.Nested(ItemSchema, metadata={"description": "The item read (scope item)."})

    @validates_schema
    def _scope_has_its_field(self, data: dict[str, Any], **_: Any) -> None:
        if data["scope"] == "diary" and "until" not in data:
            raise ValidationError("Required for scope diary.", "until")
        if data["scope"] == "item" and "item" not in data:
            raise ValidationError("Required for scope item.", "item")


class AcknowledgementSchema(Schema):
    acknowledgement_id = fields.String()
    guardian_id = fields.String()
    student_id = fields.String()
    scope = fields.String()
    until = fields.Date(allow_none=True)
    item_type = fields.String(allow_none=True)
    item_id = fields.String(allow_none=True)
    acknowledged_at = times.DateTime()


class MarkSchema(Schema):
    mark_id = fields.String()
    lesson_id = fields.String()
    date = fields.Date()
    subject_id = fields.String()
    teacher_id = fields.String()
    work_type = fields.String()
    weight = fields.Float()
    scale = fields.String()
    value = fields.String()
    comment = fields.String(allow_none=True)


class AttendanceMarkSchema(Schema):
    status = fields.String()
    reason = fields.String(allow_none=True)


class HomeworkBriefSchema(Schema):
    homework_id = fields.String()
    text = fields.String()
    due_on = fields.Date()


class MovedFromSchema(Schema):
    date = fields.Date()
    slot = fields.Integer()


class LessonSchema(Schema):
    lesson_id = fields.String()
    date = fields.Date()
    slot = fields.Integer()
    # Formatted once by diary.reading (school_iso): the school's wall clock and offset.
    starts_at = fields.String(
        metadata={"format": "date-time", "description": SCHOOL_TIME, "example": LESSON_START}
    )
    ends_at = fields.String(metadata={"format": "date-time", "description": SCHOOL_TIME})
    status = fields.String()
    subject_id = fields.String()
    subject = fields.String(allow_none=True)
    teacher_id = fields.String()
    teacher = fields.String(allow_none=True)
    substitution = fields.Boolean()
    transferred_from = fields.Nested(MovedFromSchema, allow_none=True)
    topic = fields.String(allow_none=True)
    homework_summary = fields.String(allow_none=True)
    homework = fields.List(fields.Nested(HomeworkBriefSchema))
    marks = fields.List(fields.Nested(MarkSchema))
    attendance = fields.Nested(AttendanceMarkSchema, allow_none=True)


class DaySchema(Schema):
    date = fields.Date()
    holiday = fields.String(allow_none=True)
    lessons = fields.List(fields.Nested(LessonSchema))


class WeekSchema(Schema):
    student_id = fields.String()
    student_name = fields.String(allow_none=True)
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    days = fields.List(fields.Nested(DaySchema))
    unplaced_marks = fields.List(fields.Nested(MarkSchema))


class TimetableSchema(Schema):
    student_id = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    lessons = fields.List(fields.Nested(LessonSchema))


class PeriodSchema(Schema):
    period_id = fields.String()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class SubjectMarksSchema(Schema):
    subject_id = fields.String()
    subject = fields.String(allow_none=True)
    marks = fields.List(fields.Nested(MarkSchema))
    weighted_average = fields.Float(allow_none=True)
    final = fields.String(allow_none=True)


class MarksSchema(Schema):
    student_id = fields.String()
    period = fields.Nested(PeriodSchema)
    subjects = fields.List(fields.Nested(SubjectMarksSchema))


class MissedLessonSchema(Schema):
    date = fields.Date()
    lesson_id = fields.String()
    subject = fields.String(allow_none=True)
    status = fields.String()
    reason = fields.String(allow_none=True)


class SubjectAttendanceSchema(Schema):
    subject_id = fields.String()
    subject = fields.String(allow_none=True)
    absent = fields.Integer()
    late = fields.Integer()


class AttendanceSummarySchema(Schema):
    student_id = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    totals = fields.Dict(keys=fields.String(), values=fields.Integer())
    absences_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_subject = fields.List(fields.Nested(SubjectAttendanceSchema))
    missed = fields.List(fields.Nested(MissedLessonSchema))


class HomeworkSchema(Schema):
    homework_id = fields.String()
    lesson_id = fields.String()
    subject_id = fields.String()
    subject = fields.String(allow_none=True)
    assigned_on = fields.Date()
    due_on = fields.Date()
    text = fields.String()


class TeacherSchema(Schema):
    teacher_id = fields.String()
    name = fields.String(allow_none=True)
    class_teacher = fields.Boolean()
    subjects = fields.List(fields.String())


class MessageSchema(Schema):
    message_id = fields.String()
    kind = fields.String()
    text = fields.String()
    sent_at = times.DateTime()
    teacher_id = fields.String()
    teacher = fields.String(allow_none=True)
    lesson_id = fields.String(allow_none=True)
    subject_id = fields.String(allow_none=True)
    personal = fields.Boolean()


class GuardianAcknowledgementSchema(Schema):
    guardian_id = fields.String()
    guardian = fields.String(allow_none=True)
    acknowledged = fields.Boolean()
    acknowledged_until = fields.Date(allow_none=True)
    acknowledged_at = times.DateTime(allow_none=True)


class StudentAcknowledgementSchema(Schema):
    student_id = fields.String()
    student = fields.String(allow_none=True)
    acknowledged = fields.Boolean()
    guardians = fields.List(fields.Nested(GuardianAcknowledgementSchema))


class ClassAcknowledgementsSchema(Schema):
    class_id = fields.String()
    up_to = fields.Date()
    students = fields.List(fields.Nested(StudentAcknowledgementSchema))


class CalendarPeriodSchema(Schema):
    period_id = fields.String()
    kind = fields.String()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class HolidaySchema(Schema):
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class SchoolYearSchema(Schema):
    year_id = fields.String()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    periods = fields.List(fields.Nested(CalendarPeriodSchema))
    holidays = fields.List(fields.Nested(HolidaySchema))


def default_range(data: dict[str, Any], today: date, days: int) -> tuple[date, date]:
    starts = data.get("from_") or today
    return starts, data.get("to") or starts + timedelta(days=days)


class OwnAgreementSchema(Schema):
    agreement_id = fields.String()
    concluded_at = times.DateTime()
    ends_at = times.DateTime(allow_none=True)


class OwnStudentSchema(Schema):
    """A diary of the caller's own: a guardian's child or a student's self."""

    student_id = fields.String()
    name = fields.String(allow_none=True, metadata={"description": "Absent without agreement."})
    agreement = fields.Nested(OwnAgreementSchema, allow_none=True)


SCHEMAS: dict[str, type[Schema]] = {
    "Week": WeekSchema,
    "SchoolYear": SchoolYearSchema,
    "Timetable": TimetableSchema,
    "Marks": MarksSchema,
    "AttendanceSummary": AttendanceSummarySchema,
    "Homework": HomeworkSchema,
    "Teacher": TeacherSchema,
    "Message": MessageSchema,
    "AcknowledgementRequest": AcknowledgementRequest,
    "Acknowledgement": AcknowledgementSchema,
    "ClassAcknowledgements": ClassAcknowledgementsSchema,
    "OwnStudent": OwnStudentSchema,
}
