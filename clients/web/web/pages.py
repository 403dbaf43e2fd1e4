"""The pages of a guardian and a student (R-DRY-1…7, R-ROLE-5, R-ROLE-6).

Each page relays the APIs with the signed-in user's own token and renders what they
answer, so its authorisation rule is the API's: a guardian sees their own children's
diaries, a student their own. Another family's child and an id that does not exist get
the same 404 from the diary, and so the same "not found" page here. No page makes more
than four API calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for

from schoolkit.times import school_zone
from web.api import Api, Refused, api, side_by_side
from web.sessions import safe_next
from web.signin import User, current_user, require_csrf

blueprint = Blueprint("pages", __name__)
DIARY = "/api/diary/v1"
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)
View = TypeVar("View", bound=Callable[..., Any])
OWN_STUDENTS_SECONDS = 60.0
OWN_STUDENTS_KEPT = 10_000
OWN_STUDENTS: dict[str, tuple[float, list[dict[str, Any]]]] = {}


def signed_in(view: View) -> View:
    """A page for signed-in users: anyone else goes to sign in and comes back here."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            if request.method == "POST":
                return redirect(url_for("pages.home", expired=1))
            return redirect(url_for("signin.sign_in", next=request.full_path.rstrip("?")))
        g.user = user
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def user() -> User:
    return g.user  # type: ignore[no-any-return]


def school_today() -> date:
    return datetime.now(school_zone()).date()


def parse_day(text: str | None, *, default: date) -> date:
    """A date of the query; anything else is the readable 400 page, never a 500."""
    if not text:
        return default
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(400, description="bad_date")
    if not FIRST_DAY <= day <= LAST_DAY:
        abort(400, description="bad_date")
    return day


def own_students() -> list[dict[str, Any]]:
    """The child switcher's list, kept a minute per session: it changes when the school
    links a child or registers an agreement, and every page of a student shows it. Only
    names and ids; each diary page's data is asked anew under the API's own rules."""
    key = user().row.id_digest
    kept = OWN_STUDENTS.get(key)
    if kept is not None and time.monotonic() - kept[0] < OWN_STUDENTS_SECONDS:
        return kept[1]
    found: list[dict[str, Any]] = api().get(f"{DIARY}/me/students", user().token)
    if len(OWN_STUDENTS) >= OWN_STUDENTS_KEPT:
        OWN_STUDENTS.clear()  # simpler than LRU; refilled at one call per session
    OWN_STUDENTS[key] = (time.monotonic(), found)
    return found


def page(template: str, **context: Any) -> str:
    return render_template(template, user=user(), today=school_today(), **context)


@blueprint.get("/")
def home() -> Any:
    """Signed out: the way in. A student: their week. A guardian: their children."""
    who = current_user()
    if who is None:
        # Signed out, or the session ended: the device forgets its offline copy of a week.
        return render_template("landing.html", user=None, forget_device_copy=True)
    g.user = who
    OWN_STUDENTS.pop(who.row.id_digest, None)  # the home page always asks anew
    students = own_students()
    if who.is_student and students:
        return redirect(url_for("pages.week", student_id=students[0]["student_id"]))
    return page("home.html", students=students)


@blueprint.get("/students/<student_id>/week")
@signed_in
def week(student_id: str) -> Any:
    day = parse_day(request.args.get("date"), default=school_today())
    token, client, user_is_student = user().token, api(), user().is_student
    shown, acknowledged, students = side_by_side(
        lambda: client.get(f"{DIARY}/students/{student_id}/week", token, {"date": day.isoformat()}),
        lambda: None if user_is_student else _acknowledged_until(client, token, student_id),
        own_students,
    )
    monday = date.fromisoformat(shown["from"])
    read_up_to = min(monday + timedelta(days=6), school_today())
    return page(
        "week.html",
        students=students,
        student_id=student_id,
        week=shown,
        monday=monday,
        sunday=monday + timedelta(days=6),
        previous=monday - timedelta(days=7),
        next=monday + timedelta(days=7),
        acknowledged_until=acknowledged,
        week_acknowledged=acknowledged is not None and acknowledged >= read_up_to,
    )


def _acknowledged_until(client: Api, token: str, student_id: str) -> date | None:
    given = client.get(f"{DIARY}/students/{student_id}/acknowledgements", token)
    days = [date.fromisoformat(a["until"]) for a in given if a.get("until")]
    return max(days, default=None)


@blueprint.post("/students/<student_id>/acknowledgements")
@signed_in
def acknowledge(student_id: str) -> Any:
    """R-DRY-5: the guardian has read the diary up to a day, or one message."""
    require_csrf(user().row)
    if request.form.get("item_id"):
        body: dict[str, Any] = {
            "scope": "item",
            "item": {
                "type": request.form.get("item_type", "message"),
                "id": request.form["item_id"],
            },
        }
    else:
        until = parse_day(request.form.get("until"), default=school_today())
        body = {"scope": "diary", "until": min(until, school_today()).isoformat()}
    try:
        api().send("POST", f"{DIARY}/students/{student_id}/acknowledgements", user().token, body)
    except Refused:
        abort(400, description="refused")
    return redirect(safe_next(request.form.get("next")))


@blueprint.get("/students/<student_id>/marks")
@signed_in
def marks(student_id: str) -> Any:
    periods = _periods()
    chosen = _chosen_period(periods, request.args.get("period_id"))
    if chosen is None:
        # No period to ask the diary about: the switcher's list stands in for its rule.
        if student_id not in {entry["student_id"] for entry in own_students()}:
            abort(404)
        return page(
            "marks.html",
            students=own_students(),
            student_id=student_id,
            periods=[],
            period=None,
            marks=None,
            attendance=None,
        )
    token, client = user().token, api()
    span = {"from": chosen["starts_on"], "to": chosen["ends_on"]}
    found, attendance = side_by_side(
        lambda: client.get(
            f"{DIARY}/students/{student_id}/marks", token, {"period_id": chosen["period_id"]}
        ),
        lambda: client.get(f"{DIARY}/students/{student_id}/attendance", token, span),
    )
    return page(
        "marks.html",
        students=own_students(),
        student_id=student_id,
        periods=periods,
        period=chosen,
        marks=found,
        attendance=attendance,
    )


def _periods() -> list[dict[str, Any]]:
    years = api().get(f"{DIARY}/calendar", user().token)
    return [period for year in years for period in year.get("periods", [])]


def _chosen_period(periods: list[dict[str, Any]], wanted: str | None) -> dict[str, Any] | None:
    """The asked one; else today's; else the last one that has begun; else the first."""
    if wanted:
        found = next((p for p in periods if p["period_id"] == wanted), None)
        if found is None:
            abort(404)
        return found
    today = school_today().isoformat()
    current = [p for p in periods if p["starts_on"] <= today <= p["ends_on"]]
    begun = sorted((p for p in periods if p["starts_on"] <= today), key=lambda p: p["starts_on"])
    return (current or begun[-1:] or periods[:1] or [None])[0]


@blueprint.get("/students/<student_id>/messages")
@signed_in
def messages(student_id: str) -> Any:
    token = user().token
    found = api().get(f"{DIARY}/students/{student_id}/messages", token)
    read: set[str] = set()
    if not user().is_student:
        given = api().get(f"{DIARY}/students/{student_id}/acknowledgements", token)
        read = {a["item_id"] for a in given if a.get("item_id")}
    return page(
        "messages.html",
        students=own_students(),
        student_id=student_id,
        messages=found,
        read=read,
    )


@blueprint.get("/students/<student_id>/extract.pdf")
@signed_in
def extract(student_id: str) -> Response:
    """R-DRY-6: the diary's own PDF, relayed as it comes."""
    today = school_today()
    starts = parse_day(request.args.get("from"), default=today - timedelta(days=today.weekday()))
    ends = parse_day(request.args.get("to"), default=starts + timedelta(days=6))
    if ends < starts or (ends - starts).days > 366:
        abort(400, description="bad_date")
    answer = api().call(
        "GET",
        f"{DIARY}/students/{student_id}/extract.pdf",
        user().token,
        params={"from": starts.isoformat(), "to": ends.isoformat()},
    )
    return Response(
        answer.content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": answer.headers.get(
                "Content-Disposition", 'attachment; filename="diary.pdf"'
            )
        },
    )


@blueprint.get("/my-data")
@signed_in
def my_data() -> Any:
    """R-PD-1: what the school holds, which agreements are in force and how to withdraw."""
    me = api().get("/api/identity/v1/me", user().token)
    return page("my_data.html", me=me, students=own_students())


@blueprint.route("/settings/notifications", methods=["GET", "POST"])
@signed_in
def notifications() -> Any:
    """The channels notify offers; the notices the law demands are sent whatever is chosen."""
    path = f"/api/notify/v1/preferences/{user().id}"
    saved = False
    if request.method == "POST":
        require_csrf(user().row)
        wanted = {"email": "email" in request.form, "sms": "sms" in request.form}
        preference = api().send("PUT", path, user().token, wanted)
        saved = True
    else:
        preference = api().get(path, user().token)
    return page("notifications.html", preference=preference, saved=saved)
