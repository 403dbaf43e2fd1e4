"""The diary HTTP API under /api/diary/v1: thin routes (parse, call, serialise).

Every read answers with a weak ETag made of the diary's change counters and honours
If-None-Match with a 304, so a mobile client can poll cheaply (R-DRY-4). Views that only
read use the kit's `read_session` (no transaction round trips); the one that writes, an
acknowledgement, uses `db_session` and commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import EXCLUDE, Schema

from diary import access, acknowledging, extract, reading
from diary.bodycache import BodyCache
from diary.schemas import (
    AcknowledgementRequest,
    AcknowledgementSchema,
    AttendanceSummarySchema,
    ClassAcknowledgementsQuery,
    ClassAcknowledgementsSchema,
    HomeworkSchema,
    MarksQuery,
    MarksSchema,
    MessageSchema,
    OwnStudentSchema,
    RangeQuery,
    SchoolYearSchema,
    TeacherSchema,
    TimetableSchema,
    WeekQuery,
    default_range,
)
from schoolkit import tombstones
from schoolkit.auth import (
    CLASS_TEACHER,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    GUARDIAN,
    STUDENT,
    current_principal,
    require_roles,
)
from schoolkit.errors import ApiError, load_json
from schoolkit.web import db_session, file_response, read_session, snapshot

blueprint = Blueprint("diary", __name__, url_prefix="/v1")

PDF_MAX_DAYS = 366


def _query(kind: type[Schema]) -> dict[str, Any]:
    return _query_schema(kind).load(request.args, unknown=EXCLUDE)  # type: ignore[no-any-return]


@cache
def _query_schema(kind: type[Schema]) -> Schema:
    """One instance per query schema, shared by every request and thread: building one binds
    its fields anew, a tenth of a millisecond of every poll; loading keeps no state in it."""
    return kind()


def _diary(student_id: str) -> access.StudentDiary:
    return access.open_diary(read_session(), current_principal(), student_id)


def _cached(diary: access.StudentDiary, build: Callable[[], Any]) -> Response:
    """The body `build` makes, unless the client's copy (If-None-Match) is still current.

    Called only once access is granted. A body built for the same path, day and
    counters is served from this process's cache (diary.bodycache).
    """
    tag = reading.etag(read_session(), diary)
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        bodies: BodyCache = current_app.extensions["diary_bodies"]
        key = (diary.school_id, request.full_path, date.today().isoformat(), tag)
        body = bodies.get(key)
        if body is None:
            body = current_app.json.dumps(build()).encode()
            bodies.put(key, body)
        response = Response(body, mimetype="application/json")
    response.set_etag(tag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blueprint.get("/students/<student_id>/week")
@require_roles(*access.DIARY_READERS)
def week(student_id: str) -> Response:
    """A week of the diary: lessons, topics, homework, marks and attendance.
    ---
    get:
      parameters:
        - {in: query, name: date, schema: {type: string, format: date}}
      responses:
        200: {content: {application/json: {schema: Week}}}
        304: {description: Not modified since the ETag given in If-None-Match.}
        404: NotFound
        422: ValidationFailed
    """
    day = _query(WeekQuery)["date"] or date.today()
    diary = _diary(student_id)
    # The hot path of every mobile poll: plain data, the JSON provider writes ISO dates;
    # WeekSchema documents the same shape (a test holds them together).
    return _cached(diary, lambda: reading.week(read_session(), diary, day))


@blueprint.get("/me/students")
@require_roles(GUARDIAN, STUDENT)
def own_students() -> Response:
    """The caller's own diaries: a guardian's linked children (each with the guardian's own
    agreement in force, or none), a student's self. What the web app's child switcher shows.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: OwnStudent}}}}
    """
    found = access.own_students(read_session(), current_principal())
    return jsonify(OwnStudentSchema(many=True).dump(found))


@blueprint.get("/calendar")
@require_roles(*access.DIARY_READERS)
def calendar() -> Response:
    """The academic calendar of the caller's school: years, study periods, holidays.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: SchoolYear}}}}
    """
    school_id = current_principal().school_id
    return jsonify(SchoolYearSchema(many=True).dump(reading.calendar(read_session(), school_id)))


@blueprint.get("/students/<student_id>/timetable")
@require_roles(*access.DIARY_READERS)
def timetable(student_id: str) -> Response:
    """The week's timetable, with substitutions, transfers and cancellations.
    ---
    get:
      parameters:
        - {in: query, name: date, schema: {type: string, format: date}}
      responses:
        200: {content: {application/json: {schema: Timetable}}}
        404: NotFound
        422: ValidationFailed
    """
    day = _query(WeekQuery)["date"] or date.today()
    diary = _diary(student_id)
    return _cached(
        diary, lambda: TimetableSchema().dump(reading.timetable(read_session(), diary, day))
    )


@blueprint.get("/students/<student_id>/marks")
@require_roles(*access.DIARY_READERS)
def marks(student_id: str) -> Response:
    """Marks of a period by subject, with weighted averages and the period's finals.
    ---
    get:
      parameters:
        - {in: query, name: period_id, schema: {type: string, format: uuid}}
      responses:
        200: {content: {application/json: {schema: Marks}}}
        404: NotFound
        422: ValidationFailed
    """
    period_id = _query(MarksQuery)["period_id"]
    diary = _diary(student_id)
    session = read_session()
    if period_id is None:
        period = reading.current_period(session, diary.school_id, date.today())
    else:
        period = reading.period_by_id(session, diary.school_id, str(period_id))
    if period is None:
        raise ApiError(404, "period_not_found", "No such study period.", {"period_id": "Unknown."})
    return _cached(
        diary, lambda: MarksSchema().dump(reading.marks_by_subject(session, diary, period))
    )


@blueprint.get("/students/<student_id>/attendance")
@require_roles(*access.DIARY_READERS)
def attendance(student_id: str) -> Response:
    """Attendance summary for a date range (default: the current period).
    ---
    get:
      parameters:
        - {in: query, name: from, schema: {type: string, format: date}}
        - {in: query, name: to, schema: {type: string, format: date}}
      responses:
        200: {content: {application/json: {schema: AttendanceSummary}}}
        404: NotFound
        422: ValidationFailed
    """
    span = _range_or_current_period(_query(RangeQuery))
    diary = _diary(student_id)
    return _cached(
        diary,
        lambda: AttendanceSummarySchema().dump(
            reading.attendance_summary(read_session(), diary, span)
        ),
    )


@blueprint.get("/students/<student_id>/homework")
@require_roles(*access.DIARY_READERS)
def homework(student_id: str) -> Response:
    """Homework due in a date range (default: the next two weeks).
    ---
    get:
      parameters:
        - {in: query, name: from, schema: {type: string, format: date}}
        - {in: query, name: to, schema: {type: string, format: date}}
      responses:
        200: {content: {application/json: {schema: {type: array, items: Homework}}}}
        404: NotFound
        422: ValidationFailed
    """
    starts, ends = default_range(_query(RangeQuery), date.today(), 14)
    diary = _diary(student_id)
    span = reading.DateRange(starts, ends)
    return _cached(
        diary,
        lambda: HomeworkSchema(many=True).dump(reading.homework_due(read_session(), diary, span)),
    )


@blueprint.get("/students/<student_id>/teachers")
@require_roles(*access.DIARY_READERS)
def teachers(student_id: str) -> Response:
    """The student's teachers and class teacher.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Teacher}}}}
        404: NotFound
    """
    diary = _diary(student_id)
    return _cached(
        diary,
        lambda: TeacherSchema(many=True).dump(
            reading.teachers(read_session(), diary, date.today())
        ),
    )


@blueprint.get("/students/<student_id>/messages")
@require_roles(*access.DIARY_READERS)
def messages(student_id: str) -> Response:
    """Teachers' messages and recommendations to the class and to the student, newest first.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Message}}}}
        404: NotFound
    """
    diary = _diary(student_id)
    return _cached(
        diary, lambda: MessageSchema(many=True).dump(reading.messages(read_session(), diary))
    )


@blueprint.post("/students/<student_id>/acknowledgements")
@require_roles(GUARDIAN)
def acknowledge(student_id: str) -> tuple[Response, int]:
    """A guardian confirms having read the diary up to a day, or one item (R-DRY-5).
    ---
    post:
      requestBody: {content: {application/json: {schema: AcknowledgementRequest}}}
      responses:
        201: {content: {application/json: {schema: Acknowledgement}}}
        404: NotFound
        422: ValidationFailed
    """
    body = load_json(AcknowledgementRequest())
    session = db_session()
    principal = current_principal()
    # Neither an erased student nor an erased guardian (with a token still valid) gets a
    # new row here: the 404 of a diary that does not exist (DESIGN §4 6a).
    erased = (student_id, principal.user_id)
    tombstones.refuse_erased(session, principal.school_id, *erased, not_found=access.not_found())
    diary = access.open_diary(session, principal, student_id)
    if not access.is_guardian_of(session, principal, student_id):
        raise access.not_found()
    if "item" in body:
        body["item"]["id"] = str(body["item"]["id"])
    acknowledgement = acknowledging.acknowledge(session, diary, principal.user_id, body)
    session.commit()
    return jsonify(AcknowledgementSchema().dump(acknowledgement)), 201


@blueprint.get("/students/<student_id>/acknowledgements")
@require_roles(*access.DIARY_READERS)
def acknowledgements(student_id: str) -> Response:
    """Every acknowledgement given for this student's diary, newest first.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Acknowledgement}}}}
        404: NotFound
    """
    diary = _diary(student_id)
    found = acknowledging.acknowledgements_of(read_session(), diary)
    return _cached(diary, lambda: AcknowledgementSchema(many=True).dump(found))


@blueprint.get("/classes/<class_id>/acknowledgements")
@require_roles(CLASS_TEACHER, DEPUTY_DIRECTOR, DIRECTOR)
def class_acknowledgements(class_id: str) -> Response:
    """For a class: which guardians have and have not acknowledged the diary, since when.
    ---
    get:
      parameters:
        - {in: query, name: up_to, schema: {type: string, format: date}}
      responses:
        200: {content: {application/json: {schema: ClassAcknowledgements}}}
        404: NotFound
        422: ValidationFailed
    """
    up_to = _query(ClassAcknowledgementsQuery)["up_to"] or date.today() - timedelta(days=1)
    session = read_session()
    principal = current_principal()
    if not access.sees_class(session, principal, class_id):
        raise ApiError(404, "not_found", "No such class.")
    students = acknowledging.class_overview(session, principal.school_id, class_id, up_to)
    body = {"class_id": class_id, "up_to": up_to, "students": students}
    return jsonify(ClassAcknowledgementsSchema().dump(body))


@blueprint.get("/students/<student_id>/extract.pdf")
@require_roles(GUARDIAN, CLASS_TEACHER)
def extract_pdf(student_id: str) -> Response:
    """A printable A4 extract of the diary for a date range (R-DRY-6).
    ---
    get:
      parameters:
        - {in: query, name: from, required: true, schema: {type: string, format: date}}
        - {in: query, name: to, required: true, schema: {type: string, format: date}}
      responses:
        200: {description: The extract, application/pdf.}
        404: NotFound
        422: ValidationFailed
    """
    query = _query(RangeQuery)
    if not query["from_"] or not query["to"]:
        raise ApiError(
            422,
            "validation_failed",
            "Both ends of the range are required.",
            {"from": "Required.", "to": "Required."},
        )
    principal = current_principal()
    span = reading.DateRange(query["from_"], query["to"])
    with snapshot() as session:
        diary = access.open_diary(session, principal, student_id)
        if not (
            access.is_guardian_of(session, principal, student_id)
            or access.is_class_teacher_of(session, principal, diary)
        ):
            raise access.not_found()
        document = extract.render(session, diary, span)
    return file_response(document, "application/pdf", f"diary-{span.starts_on}-{span.ends_on}.pdf")


def _range_or_current_period(query: dict[str, Any]) -> reading.DateRange:
    if query["from_"] and query["to"]:
        return reading.DateRange(query["from_"], query["to"])
    today = date.today()
    period = reading.current_period(read_session(), current_principal().school_id, today)
    starts = query["from_"] or (period.starts_on if period else today - timedelta(days=30))
    ends = query["to"] or (period.ends_on if period else today)
    if starts > ends:
        raise ApiError(
            422, "validation_failed", "Invalid range.", {"to": "Must not be before 'from'."}
        )
    return reading.DateRange(starts, ends)
