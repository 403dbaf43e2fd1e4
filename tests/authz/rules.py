"""Who may call what: one line per route of every service's OpenAPI document (issue 14).

A rule names the kind of object the route's path parameter is (see world.py for the
own / foreign / other-school object of each kind, or None for a route without one) and,
per role allowed, the reach that role has over such objects:

    SCHOOL   any object of the caller's school
    CLASS    an object of a class the caller leads (class teacher) or teaches
    TEACHES  as CLASS, but only where the caller teaches: a class teacher who only leads
             the class sees the object (403) without writing it
    CHILD    an object about the caller's own child (guardian)
    SELF     the caller themself (a student's own diary, one's own preferences)

From that the matrix derives every cell: anonymous → 401; a role not listed → 403; a
listed role out of reach (another family, another class, another school) → 404, exactly
as for an id that does not exist; in reach → 2xx (a write may also answer 400/409/410/422:
the matrix's generic body cannot satisfy every domain rule).

To add a route: one line in RULES, `("service", "METHOD /path as in openapi.json"):
rule(kind, role=SCOPE, ...)`, or one of the groups below. The sources: REQUIREMENTS.md's
R-ROLE table, DESIGN §5 and each service's README route table, as they should be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Scope(Enum):
    SCHOOL = "school"
    CLASS = "class"
    TEACHES = "teaches"
    CHILD = "child"
    SELF = "self"


SCHOOL, CLASS, TEACHES, CHILD, SELF = Scope


@dataclass(frozen=True)
class Rule:
    kind: str | None  # the kind of object the path parameter names; None: no parameter
    roles: dict[str, Scope] = field(default_factory=dict)
    public: bool = False  # no token needed: every caller, anonymous included, is let in
    also_ok: tuple[int, ...] = ()  # further answers that still mean "let in" (documented)
    # When the cell runs: 0 reads, 1 writes, 2 deletions (defaults by method); higher for
    # what takes its object away (a student leaving) or ends the caller's own sessions.
    phase: int | None = None


def rule(kind: str | None, *groups: dict[str, Scope], **roles: Scope) -> Rule:
    merged: dict[str, Scope] = {}
    for group in groups:
        merged.update(group)
    merged.update(roles)
    return Rule(kind, merged)


def public(*also_ok: int) -> Rule:
    return Rule(None, public=True, also_ok=also_ok)


ROLES = (
    "administrator",
    "director",
    "deputy_director",
    "class_teacher",
    "subject_teacher",
    "operations",
    "guardian",
    "student",
)
ADMIN = {"administrator": SCHOOL}
LEADERS = {"director": SCHOOL, "deputy_director": SCHOOL}  # R-ROLE-2: the whole school
ADMINISTRATION = {**ADMIN, **LEADERS}
# R-ROLE-1..4: staff read the school's set-up (years, subjects, rooms, timetable): no one's
# personal data.
STAFF_READ = {**ADMINISTRATION, "class_teacher": SCHOOL, "subject_teacher": SCHOOL}
# R-ROLE-3, R-ROLE-4: a class teacher their own class, a subject teacher the classes taught.
CLASS_STAFF = {**LEADERS, "class_teacher": CLASS, "subject_teacher": CLASS}
# R-ROLE-4: writing a lesson's data is for its teacher (and the leaders, R-ROLE-2).
LESSON_WRITERS = {**LEADERS, "class_teacher": TEACHES, "subject_teacher": TEACHES}
# Diary readers (diary README ¹, R-ROLE-5, R-ROLE-6): never administrator or operations.
DIARY_READERS = {**CLASS_STAFF, "guardian": CHILD, "student": SELF}
# Consent registration (consent README, R-ROLE-3): administration, the class teacher of
# the student concerned.
CONSENT_STAFF = {**ADMINISTRATION, "class_teacher": CLASS}
SIGNED_IN = dict.fromkeys(ROLES, SCHOOL)
IDENTITY_RESPONSES = (400, 401)  # OAuth endpoints: a bad client or grant, as RFC 6749 says

RULES: dict[tuple[str, str], Rule] = {
    # ---- identity (services/identity/README.md) -------------------------------------
    ("identity", "GET /.well-known/openid-configuration"): public(),
    ("identity", "GET /.well-known/oauth-authorization-server"): public(),
    ("identity", "GET /oauth/authorize"): public(*IDENTITY_RESPONSES),
    ("identity", "POST /oauth/authorize"): public(*IDENTITY_RESPONSES),
    ("identity", "GET /oauth/jwks"): public(),
    ("identity", "POST /oauth/revoke"): public(*IDENTITY_RESPONSES),
    ("identity", "POST /oauth/token"): public(*IDENTITY_RESPONSES),
    # 429: ten wrong codes from one address (the matrix's callers share one)
    ("identity", "POST /v1/registrations"): public(400, 404, 409, 410, 422, 429),
    ("identity", "GET /v1/me"): rule(None, SIGNED_IN),
    # 403 wrong_password: the generic body cannot know the caller's current password
    ("identity", "POST /v1/me/password"): Rule(None, SIGNED_IN, also_ok=(403,), phase=3),
    ("identity", "POST /v1/compromise-reports"): Rule(None, SIGNED_IN, phase=4),
    ("identity", "GET /v1/people"): rule(None, ADMINISTRATION, class_teacher=CLASS),
    ("identity", "POST /v1/people"): rule(None, ADMIN),
    ("identity", "GET /v1/people/{person_id}"): rule(
        "student", ADMINISTRATION, class_teacher=CLASS
    ),
    ("identity", "PATCH /v1/people/{person_id}"): rule("guardian", ADMIN),
    ("identity", "POST /v1/people/{person_id}/block"): rule("guardian", ADMIN),
    ("identity", "POST /v1/people/{person_id}/unblock"): rule("guardian", ADMIN),
    ("identity", "POST /v1/people/{person_id}/temporary-password"): rule("guardian", ADMIN),
    ("identity", "POST /v1/guardianships"): rule(None, ADMIN),
    ("identity", "DELETE /v1/guardianships/{link_id}"): rule("guardianship", ADMIN),
    ("identity", "POST /v1/imports/people"): rule(None, ADMIN),
    ("identity", "GET /v1/invitations"): rule(None, ADMIN, class_teacher=CLASS),
    ("identity", "POST /v1/invitations"): rule(None, ADMIN, class_teacher=CLASS),
    ("identity", "DELETE /v1/invitations/{invitation_id}"): rule(
        "invitation", ADMIN, class_teacher=CLASS
    ),
    ("identity", "POST /v1/classes/{class_id}/slips"): rule("class", ADMIN, class_teacher=CLASS),
    # ---- journal (services/journal/README.md; guardians, students, operations: 403) ----
    ("journal", "GET /v1/years"): rule(None, STAFF_READ),
    ("journal", "POST /v1/years"): rule(None, LEADERS),
    ("journal", "GET /v1/years/{year_id}/calendar"): rule("year", STAFF_READ),
    ("journal", "POST /v1/periods"): rule(None, LEADERS),
    ("journal", "DELETE /v1/periods/{period_id}"): rule("period", LEADERS),
    ("journal", "POST /v1/holidays"): rule(None, LEADERS),
    ("journal", "DELETE /v1/holidays/{holiday_id}"): rule("holiday", LEADERS),
    ("journal", "GET /v1/grading-scales"): rule(None, STAFF_READ),
    ("journal", "POST /v1/grading-scales"): rule(None, LEADERS),
    ("journal", "GET /v1/work-types"): rule(None, STAFF_READ),
    ("journal", "POST /v1/work-types"): rule(None, LEADERS),
    ("journal", "GET /v1/subjects"): rule(None, STAFF_READ),
    ("journal", "POST /v1/subjects"): rule(None, ADMINISTRATION),
    ("journal", "DELETE /v1/subjects/{subject_id}"): rule("subject", ADMINISTRATION),
    ("journal", "GET /v1/classes"): rule(None, STAFF_READ),
    ("journal", "POST /v1/classes"): rule(None, LEADERS),
    ("journal", "PATCH /v1/classes/{class_id}"): rule("class", LEADERS),
    ("journal", "GET /v1/assignments"): rule(None, STAFF_READ),
    ("journal", "POST /v1/assignments"): rule(None, LEADERS),
    ("journal", "GET /v1/rooms"): rule(None, STAFF_READ),
    ("journal", "POST /v1/rooms"): rule(None, LEADERS),
    ("journal", "DELETE /v1/rooms/{room_id}"): rule("room", LEADERS),
    ("journal", "GET /v1/groups"): rule(None, STAFF_READ),
    ("journal", "POST /v1/groups"): rule(None, LEADERS, class_teacher=CLASS),
    ("journal", "PUT /v1/groups/{group_id}/members"): rule("group", LEADERS, class_teacher=CLASS),
    ("journal", "PUT /v1/students/{student_id}/individual-plan"): rule("student_victim", LEADERS),
    ("journal", "GET /v1/bells"): rule(None, STAFF_READ),
    ("journal", "PUT /v1/bells"): rule(None, LEADERS),
    ("journal", "GET /v1/timetable"): rule(None, STAFF_READ),
    ("journal", "POST /v1/timetable"): rule(None, LEADERS),
    ("journal", "POST /v1/timetable/generate"): rule(None, LEADERS),
    ("journal", "DELETE /v1/timetable/{entry_id}"): rule("timetable_entry", LEADERS),
    ("journal", "POST /v1/lessons/{lesson_id}/substitution"): rule("lesson", LEADERS),
    ("journal", "POST /v1/lessons/{lesson_id}/transfer"): rule("lesson", LEADERS),
    ("journal", "GET /v1/lessons/{lesson_id}/changes"): rule("lesson", LEADERS),
    ("journal", "PUT /v1/lessons/{lesson_id}/control-test"): rule("lesson", LEADERS),
    ("journal", "DELETE /v1/lessons/{lesson_id}/control-test"): rule("lesson", LEADERS),
    ("journal", "GET /v1/control-tests"): rule(None, STAFF_READ),
    ("journal", "GET /v1/lessons/{lesson_id}/messages"): rule(
        "lesson", LESSON_WRITERS, class_teacher=CLASS
    ),
    ("journal", "POST /v1/lessons/{lesson_id}/messages"): rule("lesson", LESSON_WRITERS),
    ("journal", "GET /v1/calendar/classes/{class_id}.ics"): rule("class", CLASS_STAFF),
    ("journal", "GET /v1/calendar/students/{student_id}.ics"): rule("student", CLASS_STAFF),
    ("journal", "GET /v1/calendar/teachers/{teacher_id}.ics"): rule(
        "teacher", LEADERS, class_teacher=SELF, subject_teacher=SELF
    ),
    ("journal", "POST /v1/lessons"): rule(None, LESSON_WRITERS),
    ("journal", "GET /v1/plans"): rule(None, CLASS_STAFF),
    ("journal", "POST /v1/plans"): rule(None, LESSON_WRITERS),
    ("journal", "GET /v1/plans/{plan_id}"): rule("plan", CLASS_STAFF),
    ("journal", "PUT /v1/plans/{plan_id}/topics"): rule("plan", LESSON_WRITERS),
    ("journal", "POST /v1/marks"): rule(None, LESSON_WRITERS),
    ("journal", "PATCH /v1/marks/{mark_id}"): rule("mark", LESSON_WRITERS),
    ("journal", "DELETE /v1/marks/{mark_id}"): rule("mark", LESSON_WRITERS),
    ("journal", "GET /v1/corrections"): rule(None, CLASS_STAFF),
    ("journal", "POST /v1/corrections"): rule(None, class_teacher=TEACHES, subject_teacher=TEACHES),
    ("journal", "POST /v1/corrections/{request_id}/approve"): rule("correction", LEADERS),
    ("journal", "POST /v1/corrections/{request_id}/reject"): rule("correction", LEADERS),
    ("journal", "POST /v1/lessons/{lesson_id}/homework"): rule("lesson", LESSON_WRITERS),
    ("journal", "POST /v1/attendance"): rule(None, LESSON_WRITERS),
    ("journal", "POST /v1/finals"): rule(None, LESSON_WRITERS),
    ("journal", "GET /v1/classes/{class_id}/grid"): rule("class", CLASS_STAFF),
    ("journal", "GET /v1/classes/{class_id}/enrolments"): rule("class", CLASS_STAFF),
    ("journal", "POST /v1/classes/{class_id}/enrolments"): rule(
        "class", LEADERS, class_teacher=CLASS
    ),
    ("journal", "POST /v1/students/{student_id}/transfer"): rule("student_victim", LEADERS),
    ("journal", "POST /v1/students/{student_id}/leave"): Rule("student_victim", LEADERS, phase=2),
    ("journal", "GET /v1/students/{student_id}/history"): rule("student", LEADERS),
    ("journal", "GET /v1/audit/verify"): rule(None, LEADERS),
    ("journal", "GET /v1/reports/classes/{class_id}/progress"): rule("class", CLASS_STAFF),
    ("journal", "GET /v1/reports/classes/{class_id}/attendance"): rule("class", CLASS_STAFF),
    ("journal", "GET /v1/reports/classes/{class_id}/checks"): rule("class", CLASS_STAFF),
    ("journal", "GET /v1/reports/classes/{class_id}/control-tests"): rule("class", CLASS_STAFF),
    ("journal", "GET /v1/reports/classes/{class_id}/final-marks-sheet"): rule("class", CLASS_STAFF),
    ("journal", "GET /v1/reports/students/{student_id}/progress"): rule("student", CLASS_STAFF),
    ("journal", "GET /v1/reports/teachers/compliance"): rule(None, CLASS_STAFF),
    # rosters, staff and subjects also for the administrator (R-ROLE-1)
    ("journal", "GET /v1/exports/{dataset}"): rule("dataset", ADMINISTRATION),
    ("journal", "POST /v1/imports/{dataset}"): rule("dataset", ADMINISTRATION),
    ("journal", "GET /v1/exports/oneroster"): rule(None, LEADERS),
    ("journal", "POST /v1/imports/oneroster"): rule(None, LEADERS),
    # ---- diary (services/diary/README.md) --------------------------------------------
    ("diary", "GET /v1/calendar"): rule(None, DIARY_READERS),
    # The caller's own diaries (the web app's child switcher): no object, own data only.
    ("diary", "GET /v1/me/students"): rule(None, guardian=SCHOOL, student=SCHOOL),
    ("diary", "GET /v1/students/{student_id}/week"): rule("student", DIARY_READERS),
    ("diary", "GET /v1/students/{student_id}/timetable"): rule("student", DIARY_READERS),
    ("diary", "GET /v1/students/{student_id}/marks"): rule("student", DIARY_READERS),
    ("diary", "GET /v1/students/{student_id}/attendance"): rule("student", DIARY_READERS),
    ("diary", "GET /v1/students/{student_id}/homework"): rule("student", DIARY_READERS),
    ("diary", "GET /v1/students/{student_id}/teachers"): rule("student", DIARY_READERS),
    ("diary", "GET /v1/students/{student_id}/messages"): rule("student", DIARY_READERS),
    ("diary", "GET /v1/students/{student_id}/acknowledgements"): rule("student", DIARY_READERS),
    ("diary", "POST /v1/students/{student_id}/acknowledgements"): rule("student", guardian=CHILD),
    ("diary", "GET /v1/students/{student_id}/extract.pdf"): rule(
        "student", guardian=CHILD, class_teacher=CLASS
    ),
    ("diary", "GET /v1/classes/{class_id}/acknowledgements"): rule(
        "class", LEADERS, class_teacher=CLASS
    ),
    # ---- consent (services/consent/README.md) ----------------------------------------
    ("consent", "GET /v1/templates"): rule(None, SIGNED_IN),
    ("consent", "GET /v1/templates/{template_id}"): rule("template", SIGNED_IN),
    ("consent", "GET /v1/consents"): rule(None, CONSENT_STAFF),
    ("consent", "POST /v1/consents"): rule(None, CONSENT_STAFF),
    ("consent", "GET /v1/consents/{consent_id}"): rule("consent", CONSENT_STAFF),
    ("consent", "POST /v1/consents/{consent_id}/withdrawal"): rule("consent", CONSENT_STAFF),
    ("consent", "GET /v1/agreements"): rule(None, CONSENT_STAFF),
    ("consent", "POST /v1/agreements"): rule(None, CONSENT_STAFF),
    ("consent", "GET /v1/agreements/{agreement_id}"): rule("agreement", CONSENT_STAFF),
    ("consent", "GET /v1/agreements/{agreement_id}/application.pdf"): rule(
        "agreement", CONSENT_STAFF
    ),
    ("consent", "POST /v1/agreements/{agreement_id}/version"): rule("agreement", CONSENT_STAFF),
    ("consent", "POST /v1/agreements/{agreement_id}/termination"): rule("agreement", CONSENT_STAFF),
    ("consent", "GET /v1/erasures"): rule(None, ADMINISTRATION),
    ("consent", "GET /v1/erasures/{erasure_id}"): rule("erasure", ADMINISTRATION),
    # 409 erasure_not_finished: the act exists once every participant confirmed
    ("consent", "GET /v1/erasures/{erasure_id}/act.json"): Rule(
        "erasure", ADMINISTRATION, also_ok=(409,)
    ),
    ("consent", "GET /v1/erasures/{erasure_id}/act.pdf"): Rule(
        "erasure", ADMINISTRATION, also_ok=(409,)
    ),
    # ---- notify (services/notify/README.md) ------------------------------------------
    ("notify", "GET /v1/preferences/{person_id}"): rule(
        "addressee", dict.fromkeys(ROLES, SELF), ADMIN
    ),
    ("notify", "PUT /v1/preferences/{person_id}"): rule(
        "addressee", dict.fromkeys(ROLES, SELF), ADMIN
    ),
    ("notify", "GET /v1/deliveries"): rule(None, ADMINISTRATION),
    # The one-click link of a digest (RFC 8058): its signed token is the authority, so
    # every caller is let in and an unsigned or missing token is the 404 of no such person.
    ("notify", "POST /v1/unsubscribe"): public(404),
    ("notify", "GET /v1/templates"): rule(None, ADMIN),
    ("notify", "PUT /v1/templates"): rule(None, ADMIN),
    ("notify", "POST /v1/templates/preview"): rule(None, ADMIN),
    # ---- archive (services/archive/README.md: administrators of the school) ----------
    ("archive", "GET /v1/backups"): rule(None, ADMIN),
    ("archive", "POST /v1/backups"): rule(None, ADMIN),
    ("archive", "GET /v1/backups/{backup_id}"): rule("backup", ADMIN),
    ("archive", "POST /v1/backups/{backup_id}/verify"): rule("backup", ADMIN),
    ("archive", "POST /v1/restores"): rule(None, ADMIN),
    # Drills of the services' databases: deployment-wide, no school's data (issue 18).
    ("archive", "GET /v1/drills"): rule(None, ADMIN),
}

# Served by every app beside its OpenAPI routes (DESIGN §7). Prometheus and the probes
# reach the app directly, so the app answers everyone; that /metrics is not reachable
# through the gateway is test_metrics_are_not_routed_by_the_gateway's business.
OPS_PATHS = ("/healthz", "/readyz", "/metrics")
for _service in ("identity", "journal", "diary", "consent", "notify", "archive"):
    for _path in OPS_PATHS:
        RULES[(_service, f"GET {_path}")] = public()
