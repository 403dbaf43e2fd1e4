"""What the journal API accepts and returns (marshmallow); listed in its OpenAPI document."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schoolkit import times

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
    """The teaching load of exactly one of: a class, a group or stream, an individual-plan
    student (whose individual group it opens on first use, R-JRN-4)."""

    assignment_id = fields.String(dump_only=True)
    teacher_id = fields.UUID(required=True)
    subject_id = fields.UUID(required=True)
    class_id = fields.UUID(load_default=None, allow_none=True)
    group_id = fields.UUID(load_default=None, allow_none=True)
    student_id = fields.UUID(load_default=None, load_only=True)
    hours_per_week = fields.Integer(load_default=None, validate=validate.Range(1, 40))

    @validates_schema
    def _one_target(self, data: dict[str, Any], **_: Any) -> None:
        _require_one_target(data, ("class_id", "group_id", "student_id"))


def _require_one_target(data: dict[str, Any], names: tuple[str, ...]) -> None:
    given = [name for name in names if data.get(name)]
    if len(given) != 1:
        problem = f"Give exactly one of {', '.join(names)}."
        raise ValidationError({name: [problem] for name in (given or names)})


class ScaleMarkSchema(Schema):
    mark = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,16}$"))
    label = fields.String(validate=validate.Length(1, 40))
    score = fields.Float(load_default=None, allow_none=True)
    passing = fields.Boolean(required=True)


class GradingScaleSchema(Schema):
    code = fields.String(
        required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$", error="Use a-z, 0-9, _.")
    )
    name = fields.String(required=True, validate=validate.Length(1, 80))
    marks = fields.List(
        fields.Nested(ScaleMarkSchema), required=True, validate=validate.Length(2, 200)
    )
    built_in = fields.Boolean(dump_only=True)


class WorkTypeSchema(Schema):
    work_type_id = fields.String(dump_only=True)
    code = fields.String(
        required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,63}$", error="Use a-z, 0-9, _.")
    )
    name = fields.String(required=True, validate=validate.Length(1, 80))
    weight = fields.Float(required=True, validate=validate.Range(0.1, 10))
    scale = fields.String(load_default="five_point", validate=validate.Length(1, 40))
    control = fields.Boolean(load_default=False)


class LessonSchema(Schema):
    lesson_id = fields.String(dump_only=True)
    class_id = fields.UUID(required=True)
    subject_id = fields.UUID(required=True)
    teacher_id = fields.UUID(load_default=None, metadata={"description": "Defaults to the caller."})
    group_id = fields.UUID(load_default=None, allow_none=True)
    room_id = fields.UUID(load_default=None, allow_none=True)
    substituted_teacher_id = fields.String(dump_only=True)
    control_form = fields.String(dump_only=True)
    period_id = fields.String(dump_only=True)
    date = fields.Date(required=True)
    slot = fields.Integer(required=True, validate=validate.Range(0, 20))
    starts_at = times.SchoolDateTime(required=True)
    ends_at = times.SchoolDateTime(required=True)
    topic = fields.String(load_default=None, validate=validate.Length(1, 500))
    plan_lesson_number = fields.Integer(
        load_default=None,
        load_only=True,
        validate=validate.Range(1, 400),
        metadata={"description": "Take the topic planned for this lesson number (R-JRN-5)."},
    )
    status = fields.String(dump_only=True)

    @validates_schema
    def _ends_after_start(self, data: dict[str, Any], **_: Any) -> None:
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be after starts_at.", "ends_at")

    @validates_schema
    def _topic_or_plan(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("topic") and data.get("plan_lesson_number"):
            raise ValidationError("Give a topic or plan_lesson_number, not both.", "topic")


class PlannedTopicSchema(Schema):
    lesson_number = fields.Integer(required=True, validate=validate.Range(1, 400))
    topic = fields.String(required=True, validate=validate.Length(1, 500))


class PlanTopicsSchema(Schema):
    topics = fields.List(
        fields.Nested(PlannedTopicSchema), required=True, validate=validate.Length(1, 400)
    )


class PlanSchema(PlanTopicsSchema):
    """A calendar-thematic plan of a subject for exactly one of a class or a group."""

    plan_id = fields.String(dump_only=True)
    subject_id = fields.UUID(required=True)
    class_id = fields.UUID(load_default=None, allow_none=True)
    group_id = fields.UUID(load_default=None, allow_none=True)
    period_id = fields.UUID(required=True)
    created_by = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)

    @validates_schema
    def _one_target(self, data: dict[str, Any], **_: Any) -> None:
        _require_one_target(data, ("class_id", "group_id"))


class HeldLessonSchema(Schema):
    lesson_id = fields.String()
    date = fields.String()
    topic = fields.String(allow_none=True)


class PlanRowSchema(Schema):
    """Lesson n of a plan: the topic planned and the n-th lesson held (R-JRN-5, R-JRN-12)."""

    lesson_number = fields.Integer()
    planned_topic = fields.String(allow_none=True)
    held = fields.Nested(HeldLessonSchema, allow_none=True)


class PlanProgressSchema(PlanSchema):
    rows = fields.List(fields.Nested(PlanRowSchema), dump_only=True)


class MarkSchema(Schema):
    mark_id = fields.String(dump_only=True)
    lesson_id = fields.UUID(required=True)
    student_id = fields.UUID(required=True)
    work_type_id = fields.UUID(required=True)
    value = fields.String(required=True, validate=validate.Length(1, 16))
    comment = fields.String(load_default=None, validate=validate.Length(1, 500))
    teacher_id = fields.String(dump_only=True)


class FinalMarkSchema(Schema):
    student_id = fields.UUID(required=True)
    value = fields.String(required=True, validate=validate.Length(1, 16))


class FinalsSchema(Schema):
    finalization_id = fields.String(dump_only=True)
    period_id = fields.UUID(required=True)
    class_id = fields.UUID(required=True)
    subject_id = fields.UUID(required=True)
    group_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "The group whose final marks these are (its teacher's)."},
    )
    scale = fields.String(load_default="five_point", validate=validate.Length(1, 40))
    finals = fields.List(fields.Nested(FinalMarkSchema), required=True, validate=validate.Length(1))
    version = fields.Integer(dump_only=True)


class AttendanceSchema(Schema):
    attendance_id = fields.String(dump_only=True)
    lesson_id = fields.UUID(required=True)
    student_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("present", "absent", "late")))
    reason = fields.String(
        load_default=None,
        validate=validate.OneOf(("illness", "excused", "unexcused", "school_activity", "other")),
    )
    version = fields.Integer(dump_only=True)


class EnrolmentSchema(Schema):
    enrolment_id = fields.String(dump_only=True)
    student_id = fields.UUID(required=True)
    class_id = fields.String(dump_only=True)
    individual_plan = fields.Boolean(load_default=False)
    on = fields.Date(required=True, data_key="enrolled_on", attribute="on")
    version = fields.Integer(dump_only=True)


class TransferSchema(Schema):
    to_class_id = fields.UUID(required=True)
    on = fields.Date(required=True)


class LeaveSchema(Schema):
    reason = fields.String(
        required=True, validate=validate.OneOf(("graduation", "transfer", "other"))
    )
    on = fields.Date(required=True)


class MoveSchema(Schema):
    kind = fields.String()
    from_class_id = fields.String()
    to_class_id = fields.String()
    on = fields.Date()
    reason = fields.String()
    by = fields.String()


class MarkChangeSchema(Schema):
    value = fields.String(validate=validate.Length(1, 16))
    comment = fields.String(allow_none=True, validate=validate.Length(1, 500))


class CorrectionSchema(Schema):
    request_id = fields.String(dump_only=True)
    mark_id = fields.UUID(required=True)
    value = fields.String(required=True, validate=validate.Length(1, 16))
    previous_value = fields.String(dump_only=True)
    reason = fields.String(required=True, validate=validate.Length(3, 500))
    requested_by = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    decided_by = fields.String(dump_only=True)


class HomeworkSchema(Schema):
    homework_id = fields.String(dump_only=True)
    lesson_id = fields.String(dump_only=True)
    text = fields.String(required=True, validate=validate.Length(1, 4000))
    due_on = fields.Date(required=True)


CONTROL_FORMS = (
    "control_work",
    "dictation",
    "test",
    "essay",
    "summary",
    "credit",
    "practical_work",
    "laboratory_work",
    "project",
    "oral",
    "other",
)


class RoomSchema(Schema):
    room_id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(1, 40))
    capacity = fields.Integer(load_default=None, validate=validate.Range(1, 1000))


class GroupSchema(Schema):
    """A group takes students of one class; a stream of two or more classes."""

    group_id = fields.String(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(("group", "stream")))
    name = fields.String(required=True, validate=validate.Length(1, 80))
    class_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(1, 40))
    student_ids = fields.List(fields.UUID(), load_default=list)
    year_id = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)

    @validates_schema
    def _classes_fit_the_kind(self, data: dict[str, Any], **_: Any) -> None:
        count = len(set(data.get("class_ids", [])))
        if data.get("kind") == "group" and count != 1:
            raise ValidationError("A group takes students of exactly one class.", "class_ids")
        if data.get("kind") == "stream" and count < 2:
            raise ValidationError("A stream joins two or more classes.", "class_ids")


class IndividualPlanSchema(Schema):
    individual_plan = fields.Boolean(required=True)


class GroupMembersSchema(Schema):
    student_ids = fields.List(fields.UUID(), required=True)


class BellSchema(Schema):
    slot = fields.Integer(required=True, validate=validate.Range(0, 20))
    starts = fields.Time(required=True, format="%H:%M")
    ends = fields.Time(required=True, format="%H:%M")

    @validates_schema
    def _ends_after_start(self, data: dict[str, Any], **_: Any) -> None:
        if "starts" in data and "ends" in data and data["ends"] <= data["starts"]:
            raise ValidationError("Must be after starts.", "ends")


class BellScheduleSchema(Schema):
    bells = fields.List(fields.Nested(BellSchema), required=True, validate=validate.Length(1, 21))

    @validates_schema
    def _one_bell_per_slot(self, data: dict[str, Any], **_: Any) -> None:
        slots = [bell["slot"] for bell in data.get("bells", [])]
        if len(slots) != len(set(slots)):
            raise ValidationError("Each lesson number once.", "bells")


class TimetableEntrySchema(Schema):
    """A line of the weekly template for a class, a group or stream, or one student."""

    entry_id = fields.String(dump_only=True)
    class_id = fields.UUID(load_default=None, allow_none=True)
    group_id = fields.UUID(load_default=None, allow_none=True)
    student_id = fields.UUID(load_default=None, load_only=True)
    weekday = fields.Integer(
        required=True, validate=validate.Range(1, 7), metadata={"description": "1 = Monday."}
    )
    slot = fields.Integer(required=True, validate=validate.Range(0, 20))
    subject_id = fields.UUID(required=True)
    teacher_id = fields.UUID(required=True)
    room_id = fields.UUID(load_default=None, allow_none=True)

    @validates_schema
    def _one_target(self, data: dict[str, Any], **_: Any) -> None:
        _require_one_target(data, ("class_id", "group_id", "student_id"))


class GenerationSchema(Schema):
    period_id = fields.UUID(required=True)
    class_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "Only this class's lessons (a large school, class by class)."},
    )
    created = fields.Integer(dump_only=True)
    skipped_holidays = fields.List(fields.Date(), dump_only=True)


class SubstitutionSchema(Schema):
    teacher_id = fields.UUID(required=True, metadata={"description": "The substitute."})
    reason = fields.String(required=True, validate=validate.Length(3, 500))


class LessonTransferSchema(Schema):
    date = fields.Date(required=True)
    slot = fields.Integer(required=True, validate=validate.Range(0, 20))
    room_id = fields.UUID(load_default=None, allow_none=True)
    reason = fields.String(required=True, validate=validate.Length(3, 500))


class LessonChangeSchema(Schema):
    change_id = fields.String(dump_only=True)
    lesson_id = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    reason = fields.String(dump_only=True)
    before = fields.Dict(dump_only=True)
    after = fields.Dict(dump_only=True)
    by = fields.String(dump_only=True)
    at = times.DateTime(dump_only=True)


class ControlTestSchema(Schema):
    form = fields.String(required=True, validate=validate.OneOf(CONTROL_FORMS))


class LessonMessageSchema(Schema):
    message_id = fields.String(dump_only=True)
    lesson_id = fields.String(dump_only=True)
    kind = fields.String(
        load_default="message", validate=validate.OneOf(("message", "recommendation"))
    )
    text = fields.String(required=True, validate=validate.Length(1, 4000))
    student_ids = fields.List(
        fields.UUID(),
        load_default=None,
        validate=validate.Length(1, 200),
        metadata={"description": "Only these students' guardians; omit for the whole lesson."},
    )
    teacher_id = fields.String(dump_only=True)
    sent_at = times.DateTime(dump_only=True)


SCHEMAS: dict[str, type[Schema]] = {
    "Room": RoomSchema,
    "Group": GroupSchema,
    "GroupMembers": GroupMembersSchema,
    "IndividualPlan": IndividualPlanSchema,
    "Bell": BellSchema,
    "BellSchedule": BellScheduleSchema,
    "TimetableEntry": TimetableEntrySchema,
    "Generation": GenerationSchema,
    "Substitution": SubstitutionSchema,
    "LessonTransfer": LessonTransferSchema,
    "LessonChange": LessonChangeSchema,
    "ControlTest": ControlTestSchema,
    "LessonMessage": LessonMessageSchema,
    "Homework": HomeworkSchema,
    "Correction": CorrectionSchema,
    "MarkChange": MarkChangeSchema,
    "Enrolment": EnrolmentSchema,
    "Transfer": TransferSchema,
    "Leave": LeaveSchema,
    "Move": MoveSchema,
    "Attendance": AttendanceSchema,
    "Finals": FinalsSchema,
    "Lesson": LessonSchema,
    "PlannedTopic": PlannedTopicSchema,
    "PlanTopics": PlanTopicsSchema,
    "Plan": PlanSchema,
    "HeldLesson": HeldLessonSchema,
    "PlanRow": PlanRowSchema,
    "PlanProgress": PlanProgressSchema,
    "Mark": MarkSchema,
    "GradingScale": GradingScaleSchema,
    "WorkType": WorkTypeSchema,
    "Year": YearSchema,
    "Period": PeriodSchema,
    "Holiday": HolidaySchema,
    "Subject": SubjectSchema,
    "SchoolClass": ClassSchema,
    "ClassChange": ClassChangeSchema,
    "Assignment": AssignmentSchema,
}
