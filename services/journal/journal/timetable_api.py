"""The timetable part of the journal API under /api/journal/v1: rooms, study groups and
streams, the bell schedule, weekly templates and the lessons they generate, substitutions
and transfers, the control-test schedule, messages to guardians and the iCalendar feeds.

Who may do what (REQUIREMENTS R-ROLE): the director and deputy director set all of this
up and register substitutions (R-ROLE-2); a class teacher keeps their own class's groups
(R-ROLE-3); a subject teacher writes messages about lessons they teach (R-ROLE-4).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import ValidationError, fields

from journal import contingent, groups, ical, lesson_changes, messages, timetable
from journal.erased import refuse_erased_students
from journal.models import StudyGroup
from journal.schemas import (
    BellScheduleSchema,
    BellSchema,
    ControlTestSchema,
    GenerationSchema,
    GroupMembersSchema,
    GroupSchema,
    IndividualPlanSchema,
    LessonChangeSchema,
    LessonMessageSchema,
    LessonSchema,
    LessonTransferSchema,
    RoomSchema,
    SubstitutionSchema,
    TimetableEntrySchema,
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
from schoolkit.web import db_session, snapshot

blueprint = Blueprint("timetable", __name__, url_prefix="/v1")

SETS_UP_THE_YEAR = (DIRECTOR, DEPUTY_DIRECTOR)  # R-ROLE-2
TEACHERS = (SUBJECT_TEACHER, CLASS_TEACHER)
STAFF = (*SETS_UP_THE_YEAR, ADMINISTRATOR, *TEACHERS)


def _school() -> str:
    return current_principal().school_id


@blueprint.post("/rooms")
@require_roles(*SETS_UP_THE_YEAR)
def create_room() -> Any:
    """Add a room (R-JRN-2).
    ---
    post:
      requestBody: {content: {application/json: {schema: Room}}}
      responses:
        201: {content: {application/json: {schema: Room}}}
        409: {description: A room of that name exists (room_exists).}
    """
    session = db_session()
    room = groups.create_room(session, current_principal(), load_json(RoomSchema()))
    session.commit()
    return RoomSchema().dump(room), 201


@blueprint.get("/rooms")
@require_roles(*STAFF)
def list_rooms() -> Any:
    """The school's rooms by name.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Room}}}}
    """
    return RoomSchema(many=True).dump(groups.rooms_of(db_session(), _school()))


@blueprint.delete("/rooms/<room_id>")
@require_roles(*SETS_UP_THE_YEAR)
def remove_room(room_id: str) -> Any:
    """Remove a room; lessons already held in it keep naming it.
    ---
    delete:
      responses:
        204: {description: Removed.}
        404: {description: No such room (room_not_found).}
    """
    session = db_session()
    groups.remove_room(session, current_principal(), room_id)
    session.commit()
    return "", 204


@blueprint.post("/groups")
@require_roles(CLASS_TEACHER, *SETS_UP_THE_YEAR)
def create_group() -> Any:
    """Open a study group of a class or a stream of several classes, with its students.
    ---
    post:
      requestBody: {content: {application/json: {schema: Group}}}
      responses:
        201: {content: {application/json: {schema: Group}}}
        403: {description: A class teacher keeps only their own class's groups (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
        422: {description: A student not enrolled in the group's classes (not_in_class).}
    """
    session = db_session()
    group = groups.create_group(session, current_principal(), load_json(GroupSchema()))
    session.commit()
    return _dump_group(group), 201


@blueprint.get("/groups")
@require_roles(*STAFF)
def list_groups() -> Any:
    """The school's groups, streams and individual plans, optionally of one class.
    ---
    get:
      parameters:
      - {in: query, name: class_id, schema: {type: string}}
      responses:
        200: {content: {application/json: {schema: {type: array, items: Group}}}}
    """
    found = groups.groups_of(db_session(), _school(), request.args.get("class_id"))
    return [_dump_group(group) for group in found]


@blueprint.put("/groups/<group_id>/members")
@require_roles(CLASS_TEACHER, *SETS_UP_THE_YEAR)
def set_group_members(group_id: str) -> Any:
    """Make the group's students exactly these; their enrolments are announced again.
    ---
    put:
      requestBody: {content: {application/json: {schema: GroupMembers}}}
      responses:
        200: {content: {application/json: {schema: Group}}}
        404: {description: No such group (group_not_found).}
    """
    session = db_session()
    body = load_json(GroupMembersSchema())
    refuse_erased_students(session, body["student_ids"])
    group = groups.set_members(session, current_principal(), group_id, body["student_ids"])
    session.commit()
    return _dump_group(group)


@blueprint.put("/students/<student_id>/individual-plan")
@require_roles(*SETS_UP_THE_YEAR)
def set_individual_plan(student_id: str) -> Any:
    """Put a student on an individual study plan or take them off it (R-JRN-2).
    ---
    put:
      requestBody: {content: {application/json: {schema: IndividualPlan}}}
      responses:
        200: {content: {application/json: {schema: IndividualPlan}}}
        404: {description: In no class of this school (not_enrolled).}
    """
    session = db_session()
    wanted = load_json(IndividualPlanSchema())["individual_plan"]
    refuse_erased_students(session, [student_id])
    enrolment = contingent.set_individual_plan(session, current_principal(), student_id, wanted)
    session.commit()
    return {"individual_plan": enrolment.individual_plan}


@blueprint.put("/bells")
@require_roles(*SETS_UP_THE_YEAR)
def set_bells() -> Any:
    """Set the bell schedule: when each lesson number starts and ends (school time).
    ---
    put:
      requestBody: {content: {application/json: {schema: BellSchedule}}}
      responses:
        200: {content: {application/json: {schema: BellSchedule}}}
    """
    session = db_session()
    bells = timetable.set_bells(
        session, current_principal(), load_json(BellScheduleSchema())["bells"]
    )
    session.commit()
    return {"bells": BellSchema(many=True).dump(bells)}


@blueprint.get("/bells")
@require_roles(*STAFF)
def read_bells() -> Any:
    """The bell schedule.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: BellSchedule}}}
    """
    return {"bells": BellSchema(many=True).dump(timetable.bells_of(db_session(), _school()))}


@blueprint.post("/timetable")
@require_roles(*SETS_UP_THE_YEAR)
def add_timetable_entry() -> Any:
    """Add a line to the weekly template of a class, group, stream or student.
    ---
    post:
      requestBody: {content: {application/json: {schema: TimetableEntry}}}
      responses:
        201: {content: {application/json: {schema: TimetableEntry}}}
        404: {description: "No such class, group, subject or room (…_not_found)."}
        409: {description: "The teacher, the room or the slot is taken (teacher_busy, room_busy, slot_taken)."}
        422: {description: "No bell for the slot (no_bell_for_slot); not the teacher's load (not_in_teaching_load)."}
    """
    session = db_session()
    entry = timetable.add_entry(session, current_principal(), load_json(TimetableEntrySchema()))
    session.commit()
    return TimetableEntrySchema().dump(entry), 201


@blueprint.get("/timetable")
@require_roles(*STAFF)
def list_timetable() -> Any:
    """The weekly template, optionally of one class, group, teacher or room.
    ---
    get:
      parameters:
      - {in: query, name: class_id, schema: {type: string}}
      - {in: query, name: group_id, schema: {type: string}}
      - {in: query, name: teacher_id, schema: {type: string}}
      - {in: query, name: room_id, schema: {type: string}}
      responses:
        200: {content: {application/json: {schema: {type: array, items: TimetableEntry}}}}
    """
    entries = timetable.entries_of(db_session(), _school(), request.args.to_dict())
    return TimetableEntrySchema(many=True).dump(entries)


@blueprint.delete("/timetable/<entry_id>")
@require_roles(*SETS_UP_THE_YEAR)
def remove_timetable_entry(entry_id: str) -> Any:
    """Take a line off the template; lessons it generated stay.
    ---
    delete:
      responses:
        204: {description: Removed.}
    """
    session = db_session()
    timetable.remove_entry(session, current_principal(), entry_id)
    session.commit()
    return "", 204


@blueprint.post("/timetable/generate")
@require_roles(*SETS_UP_THE_YEAR)
def generate_lessons() -> Any:
    """Create the period's lessons from the template; holidays are skipped, and lessons
    generated before are not created again.
    ---
    post:
      requestBody: {content: {application/json: {schema: Generation}}}
      responses:
        200: {content: {application/json: {schema: Generation}}}
    """
    session = db_session()
    body = load_json(GenerationSchema())
    class_id = str(body["class_id"]) if body["class_id"] else None
    outcome = timetable.generate(session, current_principal(), body["period_id"], class_id)
    session.commit()
    return GenerationSchema().dump({**body, **vars(outcome)})


@blueprint.post("/lessons/<lesson_id>/substitution")
@require_roles(*SETS_UP_THE_YEAR)
def substitute_teacher(lesson_id: str) -> Any:
    """Register a substitute teacher for a lesson, with the reason (R-JRN-6).
    ---
    post:
      requestBody: {content: {application/json: {schema: Substitution}}}
      responses:
        201: {content: {application/json: {schema: LessonChange}}}
        404: {description: "No such lesson, or no such teacher in this school (teacher_not_found)."}
    """
    session = db_session()
    body = load_json(SubstitutionSchema())
    change = lesson_changes.substitute(session, current_principal(), lesson_id, body)
    session.commit()
    return LessonChangeSchema().dump(change), 201


@blueprint.post("/lessons/<lesson_id>/transfer")
@require_roles(*SETS_UP_THE_YEAR)
def transfer_lesson(lesson_id: str) -> Any:
    """Move a lesson to another day and lesson number, with the reason (R-JRN-6).
    ---
    post:
      requestBody: {content: {application/json: {schema: LessonTransfer}}}
      responses:
        201: {content: {application/json: {schema: LessonChange}}}
        422: {description: "Into a holiday (lesson_on_holiday), no period, no bell for the slot."}
    """
    session = db_session()
    body = load_json(LessonTransferSchema())
    change = lesson_changes.transfer(session, current_principal(), lesson_id, body)
    session.commit()
    return LessonChangeSchema().dump(change), 201


@blueprint.get("/lessons/<lesson_id>/changes")
@require_roles(*SETS_UP_THE_YEAR)
def list_lesson_changes(lesson_id: str) -> Any:
    """The lesson's substitutions and transfers: who registered them, when and why; for
    the director and deputy, who mark them (R-ROLE-2).
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: LessonChange}}}}
        403: {description: Not the director or deputy director.}
    """
    changes = lesson_changes.changes_of(db_session(), _school(), lesson_id)
    return LessonChangeSchema(many=True).dump(changes)


@blueprint.put("/lessons/<lesson_id>/control-test")
@require_roles(*SETS_UP_THE_YEAR)
def schedule_control_test(lesson_id: str) -> Any:
    """Put a lesson on the control-test schedule with its form of control (R-JRN-7).
    ---
    put:
      requestBody: {content: {application/json: {schema: ControlTest}}}
      responses:
        200: {content: {application/json: {schema: Lesson}}}
    """
    form = load_json(ControlTestSchema())["form"]
    return _set_control_test(lesson_id, form)


@blueprint.delete("/lessons/<lesson_id>/control-test")
@require_roles(*SETS_UP_THE_YEAR)
def unschedule_control_test(lesson_id: str) -> Any:
    """Take a lesson off the control-test schedule.
    ---
    delete:
      responses:
        200: {content: {application/json: {schema: Lesson}}}
    """
    return _set_control_test(lesson_id, None)


def _set_control_test(lesson_id: str, form: str | None) -> Any:
    session = db_session()
    lesson = lesson_changes.set_control_test(session, current_principal(), lesson_id, form)
    session.commit()
    return LessonSchema().dump(lesson)


@blueprint.get("/control-tests")
@require_roles(*STAFF)
def list_control_tests() -> Any:
    """The control-test schedule, optionally of a class, period, subject or teacher.
    ---
    get:
      parameters:
      - {in: query, name: class_id, schema: {type: string}}
      - {in: query, name: period_id, schema: {type: string}}
      - {in: query, name: subject_id, schema: {type: string}}
      - {in: query, name: teacher_id, schema: {type: string}}
      responses:
        200: {content: {application/json: {schema: {type: array, items: Lesson}}}}
    """
    found = lesson_changes.control_tests(db_session(), _school(), request.args.to_dict())
    return LessonSchema(many=True).dump(found)


@blueprint.post("/lessons/<lesson_id>/messages")
@require_roles(*TEACHERS, *SETS_UP_THE_YEAR)
def send_message(lesson_id: str) -> Any:
    """Write a message or recommendation to the guardians of the lesson's students.
    ---
    post:
      requestBody: {content: {application/json: {schema: LessonMessage}}}
      responses:
        201: {content: {application/json: {schema: LessonMessage}}}
        403: {description: Not the caller's lesson (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
        422: {description: A student not at this lesson (not_in_lesson).}
    """
    session = db_session()
    body = load_json(LessonMessageSchema())
    refuse_erased_students(session, body.get("student_ids") or [])
    message = messages.send(session, current_principal(), lesson_id, body)
    session.commit()
    return LessonMessageSchema().dump(message), 201


@blueprint.get("/lessons/<lesson_id>/messages")
@require_roles(*TEACHERS, *SETS_UP_THE_YEAR)
def list_messages(lesson_id: str) -> Any:
    """The messages written about a lesson, oldest first; for the deputy, the class's
    class teacher and the lesson's teachers.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: LessonMessage}}}}
        403: {description: Not leading the class nor teaching the lesson (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
    """
    found = messages.messages_of(db_session(), current_principal(), lesson_id)
    return LessonMessageSchema(many=True).dump(found)


@blueprint.get("/calendar/classes/<class_id>.ics")
@require_roles(*TEACHERS, *SETS_UP_THE_YEAR)
def class_calendar(class_id: str) -> Any:
    """The class's lessons as an iCalendar feed (RFC 5545).
    ---
    get:
      parameters:
      - {in: query, name: from, schema: {type: string, format: date}}
      - {in: query, name: to, schema: {type: string, format: date}}
      responses:
        200: {content: {text/calendar: {schema: {type: string}}}}
    """
    with snapshot() as session:
        body = ical.class_feed(session, current_principal(), class_id, _days())
    return _ics(body)


@blueprint.get("/calendar/teachers/<teacher_id>.ics")
@require_roles(*TEACHERS, *SETS_UP_THE_YEAR)
def teacher_calendar(teacher_id: str) -> Any:
    """A teacher's lessons (substitutions included) as an iCalendar feed.
    ---
    get:
      parameters:
      - {in: query, name: from, schema: {type: string, format: date}}
      - {in: query, name: to, schema: {type: string, format: date}}
      responses:
        200: {content: {text/calendar: {schema: {type: string}}}}
    """
    with snapshot() as session:
        body = ical.teacher_feed(session, current_principal(), teacher_id, _days())
    return _ics(body)


@blueprint.get("/calendar/students/<student_id>.ics")
@require_roles(*TEACHERS, *SETS_UP_THE_YEAR)
def student_calendar(student_id: str) -> Any:
    """A student's lessons: their class's and their groups' as an iCalendar feed.
    ---
    get:
      parameters:
      - {in: query, name: from, schema: {type: string, format: date}}
      - {in: query, name: to, schema: {type: string, format: date}}
      responses:
        200: {content: {text/calendar: {schema: {type: string}}}}
    """
    with snapshot() as session:
        body = ical.student_feed(session, current_principal(), student_id, _days())
    return _ics(body)


def _days() -> tuple[date, date]:
    first, last = ical.default_days(date.today())
    return ical.check_range((_day_arg("from", first), _day_arg("to", last)))


def _day_arg(name: str, default: date) -> date:
    value = request.args.get(name)
    if not value:
        return default
    try:
        return fields.Date().deserialize(value)
    except ValidationError as wrong:
        raise ApiError(422, "validation_failed", "Not a date.", {name: str(wrong)}) from wrong


def _ics(body: bytes) -> Response:
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private"})


def _dump_group(group: StudyGroup) -> dict[str, Any]:
    session = db_session()
    return {
        **GroupSchema(only=("group_id", "kind", "name", "year_id", "version")).dump(group),
        "class_ids": groups.class_ids_of(session, group),
        "student_ids": groups.members_of(session, group),
    }
