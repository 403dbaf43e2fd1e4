"""The journal HTTP API under /api/journal/v1: thin routes (parse, call, serialise).

Who may do what (REQUIREMENTS R-ROLE): the director and deputy director set up the
school year (R-ROLE-2); the administrator also keeps the subject list (R-ROLE-1); teachers
read the year's set-up; guardians, students and operations have no access to the journal.
Every query is bounded by the `school_id` of the caller's token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy import select

from journal import (
    audit,
    contingent,
    corrections,
    finals,
    grid,
    groups,
    lessons,
    reach,
    roster,
    scales,
    school_year,
)
from journal.erased import refuse_erased_students
from journal.models import (
    Assignment,
    CorrectionRequest,
    Enrolment,
    SchoolClass,
    Subject,
    WorkType,
    Year,
)
from journal.schemas import (
    AssignmentSchema,
    AttendanceSchema,
    ClassChangeSchema,
    ClassSchema,
    CorrectionSchema,
    EnrolmentSchema,
    FinalsSchema,
    GradingScaleSchema,
    HolidaySchema,
    HomeworkSchema,
    LeaveSchema,
    LessonSchema,
    MarkChangeSchema,
    MarkSchema,
    MoveSchema,
    PeriodSchema,
    SubjectSchema,
    TransferSchema,
    WorkTypeSchema,
    YearSchema,
)
from schoolkit.auth import (
    ADMINISTRATOR,
    CLASS_TEACHER,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    SUBJECT_TEACHER,
    current_principal,
    require_roles,
)
from schoolkit.errors import ApiError, load_json
from schoolkit.web import db_session

blueprint = Blueprint("journal", __name__, url_prefix="/v1")

SETS_UP_THE_YEAR = (DIRECTOR, DEPUTY_DIRECTOR)  # R-ROLE-2
KEEPS_SUBJECTS = (DIRECTOR, DEPUTY_DIRECTOR, ADMINISTRATOR)  # R-ROLE-1, R-ROLE-2
STAFF = (DIRECTOR, DEPUTY_DIRECTOR, ADMINISTRATOR, CLASS_TEACHER, SUBJECT_TEACHER)
# Staff involved in the students' education (R-PD-1): not the administrator (R-ROLE-1).
TEACHERS_AND_LEADERS = (DIRECTOR, DEPUTY_DIRECTOR, CLASS_TEACHER, SUBJECT_TEACHER)


def _school() -> str:
    return current_principal().school_id


@blueprint.post("/years")
@require_roles(*SETS_UP_THE_YEAR)
def create_year() -> Any:
    """Open a school year (R-JRN-1); years of a school never overlap.
    ---
    post:
      requestBody: {content: {application/json: {schema: Year}}}
      responses:
        201: {content: {application/json: {schema: Year}}}
        409: {description: Another year covers some of these days (years_overlap).}
    """
    session = db_session()
    year = school_year.create_year(session, current_principal(), load_json(YearSchema()))
    session.commit()
    return YearSchema().dump(year), 201


@blueprint.get("/years")
@require_roles(*STAFF)
def list_years() -> Any:
    """The school's years, oldest first.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Year}}}}
    """
    query = select(Year).where(Year.school_id == _school()).order_by(Year.starts_on)
    return YearSchema(many=True).dump(db_session().scalars(query))


@blueprint.get("/years/<year_id>/calendar")
@require_roles(*STAFF)
def read_calendar(year_id: str) -> Any:
    """The year's periods and holidays, in order.
    ---
    get:
      responses:
        200: {description: "{year, periods, holidays}"}
        404: {description: No such year in this school (year_not_found).}
    """
    session = db_session()
    year = school_year.year_of(session, _school(), year_id)
    return {
        "year": YearSchema().dump(year),
        "periods": PeriodSchema(many=True).dump(school_year.periods_of(session, year)),
        "holidays": HolidaySchema(many=True).dump(school_year.holidays_of(session, year)),
    }


@blueprint.post("/periods")
@require_roles(*SETS_UP_THE_YEAR)
def add_period() -> Any:
    """Add a study period; periods of one kind never overlap and lie within the year.
    ---
    post:
      requestBody: {content: {application/json: {schema: Period}}}
      responses:
        201: {content: {application/json: {schema: Period}}}
        409: {description: Overlaps a period of the same kind (periods_overlap).}
        422: {description: Outside the year (outside_year) or invalid fields.}
    """
    session = db_session()
    period = school_year.add_period(session, current_principal(), load_json(PeriodSchema()))
    session.commit()
    return PeriodSchema().dump(period), 201


@blueprint.delete("/periods/<period_id>")
@require_roles(*SETS_UP_THE_YEAR)
def remove_period(period_id: str) -> Any:
    """Remove a study period.
    ---
    delete:
      responses:
        204: {description: Removed; the calendar is sent again.}
        404: {description: No such period (period_not_found).}
    """
    session = db_session()
    school_year.remove_period(session, current_principal(), period_id)
    session.commit()
    return "", 204


@blueprint.post("/holidays")
@require_roles(*SETS_UP_THE_YEAR)
def add_holiday() -> Any:
    """Add holidays or a day off within the year.
    ---
    post:
      requestBody: {content: {application/json: {schema: Holiday}}}
      responses:
        201: {content: {application/json: {schema: Holiday}}}
    """
    session = db_session()
    holiday = school_year.add_holiday(session, current_principal(), load_json(HolidaySchema()))
    session.commit()
    return HolidaySchema().dump(holiday), 201


@blueprint.delete("/holidays/<holiday_id>")
@require_roles(*SETS_UP_THE_YEAR)
def remove_holiday(holiday_id: str) -> Any:
    """Remove holidays.
    ---
    delete:
      responses:
        204: {description: Removed; the calendar is sent again.}
    """
    session = db_session()
    school_year.remove_holiday(session, current_principal(), holiday_id)
    session.commit()
    return "", 204


@blueprint.post("/subjects")
@require_roles(*KEEPS_SUBJECTS)
def create_subject() -> Any:
    """Add a school subject (R-JRN-2).
    ---
    post:
      requestBody: {content: {application/json: {schema: Subject}}}
      responses:
        201: {content: {application/json: {schema: Subject}}}
        409: {description: A subject of that name exists (subject_exists).}
    """
    session = db_session()
    subject = roster.create_subject(session, current_principal(), load_json(SubjectSchema()))
    session.commit()
    return SubjectSchema().dump(subject), 201


@blueprint.get("/subjects")
@require_roles(*STAFF)
def list_subjects() -> Any:
    """The school's current subjects by name.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Subject}}}}
    """
    query = (
        select(Subject)
        .where(Subject.school_id == _school(), Subject.removed.is_(False))
        .order_by(Subject.name)
    )
    return SubjectSchema(many=True).dump(db_session().scalars(query))


@blueprint.delete("/subjects/<subject_id>")
@require_roles(*KEEPS_SUBJECTS)
def remove_subject(subject_id: str) -> Any:
    """Remove a subject; marks already given keep naming it.
    ---
    delete:
      responses:
        204: {description: Removed.}
    """
    session = db_session()
    roster.remove_subject(session, current_principal(), subject_id)
    session.commit()
    return "", 204


@blueprint.post("/classes")
@require_roles(*SETS_UP_THE_YEAR)
def create_class() -> Any:
    """Open a class of a year, with its class teacher when appointed.
    ---
    post:
      requestBody: {content: {application/json: {schema: SchoolClass}}}
      responses:
        201: {content: {application/json: {schema: SchoolClass}}}
        409: {description: The year has a class of that name (class_exists).}
    """
    session = db_session()
    school_class = roster.create_class(session, current_principal(), load_json(ClassSchema()))
    session.commit()
    return ClassSchema().dump(school_class), 201


@blueprint.patch("/classes/<class_id>")
@require_roles(*SETS_UP_THE_YEAR)
def change_class(class_id: str) -> Any:
    """Rename a class or appoint another class teacher.
    ---
    patch:
      requestBody: {content: {application/json: {schema: ClassChange}}}
      responses:
        200: {content: {application/json: {schema: SchoolClass}}}
    """
    session = db_session()
    changes = load_json(ClassChangeSchema())
    school_class = roster.change_class(session, current_principal(), class_id, changes)
    session.commit()
    return ClassSchema().dump(school_class)


@blueprint.get("/classes")
@require_roles(*STAFF)
def list_classes() -> Any:
    """The school's classes, optionally of one year.
    ---
    get:
      parameters:
      - {in: query, name: year_id, schema: {type: string}}
      responses:
        200: {content: {application/json: {schema: {type: array, items: SchoolClass}}}}
    """
    query = select(SchoolClass).where(SchoolClass.school_id == _school())
    if year_id := request.args.get("year_id"):
        query = query.where(SchoolClass.year_id == year_id)
    query = query.order_by(SchoolClass.grade, SchoolClass.name)
    return ClassSchema(many=True).dump(db_session().scalars(query))


@blueprint.post("/assignments")
@require_roles(*SETS_UP_THE_YEAR)
def assign_teacher() -> Any:
    """Give a teacher a subject in a class, a group or stream, or for an individual-plan
    student: the teaching load (R-JRN-4; R-ROLE-4 reads it).
    ---
    post:
      requestBody: {content: {application/json: {schema: Assignment}}}
      responses:
        201: {content: {application/json: {schema: Assignment}}}
        409: {description: Already assigned (already_assigned).}
        422: {description: The student is not on an individual plan (not_on_individual_plan).}
    """
    session = db_session()
    body = load_json(AssignmentSchema())
    assignment = groups.assign_teacher(session, current_principal(), body)
    session.commit()
    return AssignmentSchema().dump(assignment), 201


@blueprint.get("/assignments")
@require_roles(*STAFF)
def list_assignments() -> Any:
    """The teaching load, optionally of one teacher, class or group.
    ---
    get:
      parameters:
      - {in: query, name: teacher_id, schema: {type: string}}
      - {in: query, name: class_id, schema: {type: string}}
      - {in: query, name: group_id, schema: {type: string}}
      responses:
        200: {content: {application/json: {schema: {type: array, items: Assignment}}}}
    """
    query = select(Assignment).where(Assignment.school_id == _school())
    if teacher_id := request.args.get("teacher_id"):
        query = query.where(Assignment.teacher_id == teacher_id)
    if class_id := request.args.get("class_id"):
        query = query.where(Assignment.class_id == class_id)
    if group_id := request.args.get("group_id"):
        query = query.where(Assignment.group_id == group_id)
    return AssignmentSchema(many=True).dump(db_session().scalars(query))


@blueprint.get("/grading-scales")
@require_roles(*STAFF)
def list_grading_scales() -> Any:
    """The built-in scales and the school's own (R-JRN-4).
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: GradingScale}}}}
    """
    return GradingScaleSchema(many=True).dump(scales.scales_of(db_session(), _school()))


@blueprint.post("/grading-scales")
@require_roles(*SETS_UP_THE_YEAR)
def create_grading_scale() -> Any:
    """Add a scale of the school's own: the marks it allows, their scores, which pass.
    ---
    post:
      requestBody: {content: {application/json: {schema: GradingScale}}}
      responses:
        201: {content: {application/json: {schema: GradingScale}}}
        409: {description: The code is taken (scale_exists).}
    """
    session = db_session()
    scale = scales.create_scale(session, current_principal(), load_json(GradingScaleSchema()))
    session.commit()
    return GradingScaleSchema().dump(scale), 201


@blueprint.get("/work-types")
@require_roles(*STAFF)
def list_work_types() -> Any:
    """The school's work types with their weights and scales.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: WorkType}}}}
    """
    query = select(WorkType).where(WorkType.school_id == _school()).order_by(WorkType.name)
    return WorkTypeSchema(many=True).dump(db_session().scalars(query))


@blueprint.post("/work-types")
@require_roles(*SETS_UP_THE_YEAR)
def create_work_type() -> Any:
    """Add a work type («Контрольная работа», weight 2, five_point).
    ---
    post:
      requestBody: {content: {application/json: {schema: WorkType}}}
      responses:
        201: {content: {application/json: {schema: WorkType}}}
        404: {description: No such scale (scale_not_found).}
    """
    session = db_session()
    work_type = scales.create_work_type(session, current_principal(), load_json(WorkTypeSchema()))
    session.commit()
    return WorkTypeSchema().dump(work_type), 201


@blueprint.post("/lessons")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def create_lesson() -> Any:
    """Open a lesson of a class in a subject on a day (R-JRN-8).
    ---
    post:
      requestBody: {content: {application/json: {schema: Lesson}}}
      responses:
        201: {content: {application/json: {schema: Lesson}}}
        403: {description: Not in the caller's teaching load (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
        422: {description: "A holiday (lesson_on_holiday), no period (outside_periods)."}
    """
    session = db_session()
    lesson = lessons.create_lesson(session, current_principal(), load_json(LessonSchema()))
    session.commit()
    return LessonSchema().dump(lesson), 201


@blueprint.post("/marks")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def record_mark() -> Any:
    """Give a student a mark for a work type in a lesson (R-JRN-10); several per lesson.
    ---
    post:
      requestBody: {content: {application/json: {schema: Mark}}}
      responses:
        201: {content: {application/json: {schema: Mark}}}
        403: {description: Not in the caller's teaching load (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
        422: {description: Not a mark of the work type's scale (mark_out_of_scale).}
    """
    session = db_session()
    body = load_json(MarkSchema())
    refuse_erased_students(session, [body["student_id"]])
    mark = lessons.record_mark(session, current_principal(), body)
    session.commit()
    return MarkSchema().dump(mark), 201


@blueprint.post("/finals")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def set_finals() -> Any:
    """Set the period's final marks of a class in a subject: this locks the period.
    ---
    post:
      requestBody: {content: {application/json: {schema: Finals}}}
      responses:
        201: {content: {application/json: {schema: Finals}}}
        403: {description: Not the subject's teacher of the class or group (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
        409: {description: Already set; only the deputy director changes them (period_locked).}
        422: {description: "A final mark not of the scale (mark_out_of_scale), a group not of
          the class (group_not_of_class), a student not of the group (not_in_group), a
          student not in the class at any time in the period (not_in_class)."}
    """
    session = db_session()
    body = load_json(FinalsSchema())
    refuse_erased_students(session, [final["student_id"] for final in body["finals"]])
    finalization = finals.set_finals(session, current_principal(), body)
    session.commit()
    return FinalsSchema().dump({**body, **vars(finalization)}), 201


@blueprint.post("/attendance")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def record_attendance() -> Any:
    """Record a student present, absent or late at a lesson, with the reason (R-JRN-9).
    ---
    post:
      requestBody: {content: {application/json: {schema: Attendance}}}
      responses:
        200: {content: {application/json: {schema: Attendance}}}
        403: {description: Not in the caller's teaching load (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
        409: {description: The period's finals are set (period_locked).}
    """
    session = db_session()
    body = load_json(AttendanceSchema())
    refuse_erased_students(session, [body["student_id"]])
    record = lessons.record_attendance(session, current_principal(), body)
    session.commit()
    return AttendanceSchema().dump(record)


@blueprint.get("/classes/<class_id>/grid")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def read_grid(class_id: str) -> Any:
    """The class journal page: lessons of a subject in a period, marks, attendance, finals.
    ---
    get:
      parameters:
      - {in: query, name: subject_id, required: true, schema: {type: string}}
      - {in: query, name: period_id, required: true, schema: {type: string}}
      responses:
        200: {description: "{lessons, marks, attendance, finals, locked}"}
        403: {description: Not leading the class nor teaching the subject here (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
    """
    subject_id, period_id = request.args.get("subject_id"), request.args.get("period_id")
    if not subject_id or not period_id:
        raise ApiError(
            422,
            "validation_failed",
            "subject_id and period_id are required.",
            {
                name: "Required."
                for name in ("subject_id", "period_id")
                if not request.args.get(name)
            },
        )
    page = grid.read_grid(db_session(), current_principal(), class_id, subject_id, period_id)
    return page


@blueprint.post("/classes/<class_id>/enrolments")
@require_roles(CLASS_TEACHER, *SETS_UP_THE_YEAR)
def enrol(class_id: str) -> Any:
    """Enrol a student in a class (R-JRN-3): the deputy director, or the class's own teacher.
    ---
    post:
      requestBody: {content: {application/json: {schema: Enrolment}}}
      responses:
        201: {content: {application/json: {schema: Enrolment}}}
        409: {description: Already in a class (already_enrolled).}
    """
    session = db_session()
    body = load_json(EnrolmentSchema())
    refuse_erased_students(session, [body["student_id"]])
    enrolment = contingent.enrol(session, current_principal(), class_id, body)
    session.commit()
    return _dump_enrolment(enrolment), 201


@blueprint.get("/classes/<class_id>/enrolments")
@require_roles(*TEACHERS_AND_LEADERS)
def list_enrolments(class_id: str) -> Any:
    """The class's current students: for the deputy and the director, the class's own class
    teacher and its teachers (R-PD-1: staff involved in the students' education).
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Enrolment}}}}
        403: {description: Not staff who teach or lead classes (the administrator, too).}
        404: {description: No such class, or one the caller neither teaches nor leads.}
    """
    session = db_session()
    school_class = roster.class_of(session, _school(), class_id)
    if not reach.sees_class(session, current_principal(), school_class.class_id):
        raise roster.class_not_found()
    query = select(Enrolment).where(
        Enrolment.class_id == school_class.class_id, Enrolment.left_on.is_(None)
    )
    return [_dump_enrolment(enrolment) for enrolment in session.scalars(query)]


@blueprint.post("/students/<student_id>/transfer")
@require_roles(*SETS_UP_THE_YEAR)
def transfer_student(student_id: str) -> Any:
    """Move a student to another class; the history keeps where they were.
    ---
    post:
      requestBody: {content: {application/json: {schema: Transfer}}}
      responses:
        200: {content: {application/json: {schema: Enrolment}}}
        404: {description: In no class (not_enrolled).}
    """
    session = db_session()
    body = load_json(TransferSchema())
    refuse_erased_students(session, [student_id])
    enrolment = contingent.transfer(session, current_principal(), student_id, body)
    session.commit()
    return _dump_enrolment(enrolment)


@blueprint.post("/students/<student_id>/leave")
@require_roles(*SETS_UP_THE_YEAR)
def student_leaves(student_id: str) -> Any:
    """The student leaves the school (graduation, transfer, other): starts the erasure.
    ---
    post:
      requestBody: {content: {application/json: {schema: Leave}}}
      responses:
        200: {content: {application/json: {schema: Enrolment}}}
    """
    session = db_session()
    body = load_json(LeaveSchema())
    refuse_erased_students(session, [student_id])
    enrolment = contingent.leave(session, current_principal(), student_id, body)
    session.commit()
    return _dump_enrolment(enrolment)


@blueprint.get("/students/<student_id>/history")
@require_roles(*SETS_UP_THE_YEAR)
def student_history(student_id: str) -> Any:
    """Every enrolment, transfer and leaving of a student, with who and when.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Move}}}}
        404: NotFound
    """
    moves = contingent.history(db_session(), _school(), student_id)
    if not moves:  # never in this school: as for every other id of another school
        raise ApiError(404, "student_not_found", "No such student in this school.")
    return MoveSchema(many=True).dump(moves)


def _dump_enrolment(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "enrolment_id": enrolment.enrolment_id,
        "student_id": enrolment.student_id,
        "class_id": enrolment.class_id,
        "individual_plan": enrolment.individual_plan,
        "enrolled_on": enrolment.enrolled_on.isoformat(),
        "left_on": enrolment.left_on.isoformat() if enrolment.left_on else None,
        "version": enrolment.version,
    }


@blueprint.patch("/marks/<mark_id>")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def correct_mark(mark_id: str) -> Any:
    """Correct a mark's value or comment; refused once the period's finals are set.
    ---
    patch:
      requestBody: {content: {application/json: {schema: MarkChange}}}
      responses:
        200: {content: {application/json: {schema: Mark}}}
        409: {description: The period is locked (period_locked).}
        422: {description: Not of the scale (mark_out_of_scale).}
    """
    session = db_session()
    changes = load_json(MarkChangeSchema())
    mark = lessons.correct_mark(session, current_principal(), mark_id, changes)
    session.commit()
    return MarkSchema().dump(mark)


@blueprint.delete("/marks/<mark_id>")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def remove_mark(mark_id: str) -> Any:
    """Remove a mark given by mistake; refused once the period's finals are set.
    ---
    delete:
      responses:
        204: {description: Removed.}
    """
    session = db_session()
    lessons.remove_mark(session, current_principal(), mark_id)
    session.commit()
    return "", 204


@blueprint.post("/corrections")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER)
def request_correction() -> Any:
    """Ask the deputy director to change a mark of a locked period (R-ROLE-4).
    ---
    post:
      requestBody: {content: {application/json: {schema: Correction}}}
      responses:
        201: {content: {application/json: {schema: Correction}}}
    """
    session = db_session()
    body = load_json(CorrectionSchema())
    request_row = corrections.request_correction(session, current_principal(), body)
    session.commit()
    return CorrectionSchema().dump(request_row), 201


@blueprint.get("/corrections")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def list_corrections() -> Any:
    """Pending and decided requests: all of the school for the deputy, one's own otherwise.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Correction}}}}
    """
    caller = current_principal()
    query = select(CorrectionRequest).where(CorrectionRequest.school_id == caller.school_id)
    if not caller.has_any_role(*SETS_UP_THE_YEAR):
        query = query.where(CorrectionRequest.requested_by == caller.user_id)
    rows = db_session().scalars(query.order_by(CorrectionRequest.requested_at))
    return CorrectionSchema(many=True).dump(rows)


@blueprint.post("/corrections/<request_id>/approve")
@require_roles(*SETS_UP_THE_YEAR)
def approve_correction(request_id: str) -> Any:
    """Approve: the mark changes and journal.mark.corrected names the request.
    ---
    post:
      responses:
        200: {content: {application/json: {schema: Correction}}}
        409: {description: Already decided (already_decided).}
    """
    return _decide(request_id, approve=True)


@blueprint.post("/corrections/<request_id>/reject")
@require_roles(*SETS_UP_THE_YEAR)
def reject_correction(request_id: str) -> Any:
    """Reject: the mark stays.
    ---
    post:
      responses:
        200: {content: {application/json: {schema: Correction}}}
    """
    return _decide(request_id, approve=False)


def _decide(request_id: str, *, approve: bool) -> Any:
    session = db_session()
    request_row = corrections.decide(session, current_principal(), request_id, approve)
    session.commit()
    return CorrectionSchema().dump(request_row)


@blueprint.post("/lessons/<lesson_id>/homework")
@require_roles(SUBJECT_TEACHER, CLASS_TEACHER, *SETS_UP_THE_YEAR)
def assign_homework(lesson_id: str) -> Any:
    """Set homework at a lesson; the diary shows it to the class (R-JRN-8).
    ---
    post:
      requestBody: {content: {application/json: {schema: Homework}}}
      responses:
        201: {content: {application/json: {schema: Homework}}}
        422: {description: Due before the lesson (due_before_lesson).}
    """
    session = db_session()
    body = load_json(HomeworkSchema())
    homework = lessons.assign_homework(session, current_principal(), lesson_id, body)
    session.commit()
    return HomeworkSchema().dump(homework), 201


@blueprint.get("/audit/verify")
@require_roles(*SETS_UP_THE_YEAR)
def verify_audit_chain() -> Any:
    """Verify the school's audit chain; name the first broken link (R-SEC-4, R-JRN-11).
    ---
    get:
      responses:
        200: {description: "{intact, entries, first_broken_seq}"}
    """
    verdict = audit.verify(db_session(), _school())
    return {
        "intact": verdict.intact,
        "entries": verdict.entries,
        "first_broken_seq": verdict.first_broken_seq,
    }
