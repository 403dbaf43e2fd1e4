"""The console's pages. Each page parses its form, calls the same domain function as the
API (so rules, events and audit are shared) and renders; a refused action shows its
reason on the page and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from identity import credentials, imports, invitations, people, reach, slips
from identity.console import i18n, signin
from identity.console.signin import configure as configure_cookies
from identity.console.signin import is_administrator, signed_in
from identity.models import Account, AuditEntry, ClassCopy, Guardianship, Person
from identity.oauth.addresses import client_address
from identity.oauth.login import InvalidCredentials, authenticate
from identity.oauth.server import DEFAULT_SCHOOL
from identity.schemas import PersonInSchema, PersonUpdateSchema, RegistrationInSchema
from schoolkit.errors import ApiError
from schoolkit.web import db_session

blueprint = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
PAGE = 200
BLOCK_REASONS = ("suspected_unlawful_use", "authority_request", "compromise_reported", "other")


def configure(app: Any) -> None:
    configure_cookies(app)
    app.register_blueprint(blueprint)


@blueprint.after_request
def _page_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'"
    )
    if "lang" in request.args and request.args["lang"] in i18n.LANGUAGES:
        response.set_cookie(i18n.LANGUAGE_COOKIE, request.args["lang"], path="/console")
    return response


@blueprint.errorhandler(400)
@blueprint.errorhandler(403)
@blueprint.errorhandler(404)
def _refused(error: Any) -> tuple[str, int]:
    key = {400: "csrf", 403: "forbidden", 404: "not_found"}[error.code]
    return render("message.html", message=word(key)), error.code


def word(key: str) -> str:
    return i18n.translate(key, i18n.chosen_language())


def render(template: str, **context: Any) -> str:
    language = i18n.chosen_language()
    return render_template(
        f"console/{template}",
        t=lambda key: i18n.translate(key, language),
        lang=language,
        csrf_token=signin.csrf_token(),
        me=g.get("account"),
        administrator=g.get("principal") is not None and is_administrator(),
        **context,
    )


def attempt(action: Callable[[], Any]) -> ApiError | None:
    """Run an action and commit; a refusal rolls back and is returned, to be shown."""
    try:
        action()
        db_session().commit()
    except ApiError as refusal:
        db_session().rollback()
        return refusal
    return None


def status_of(refusal: ApiError | None) -> int:
    """The status the API would have answered: the page tells the same story."""
    return refusal.status if refusal is not None else 200


def message_of(refusal: ApiError | None) -> str | None:
    return refusal.message if refusal is not None else None


def form_values(*names: str) -> dict[str, Any]:
    """The form's non-empty fields; an empty field means "none"."""
    values: dict[str, Any] = {}
    for name in names:
        value = request.form.get(name, "").strip()
        values[name] = value or None
    if "roles" in names:
        values["roles"] = request.form.getlist("roles")
    return values


def administrators_only() -> None:
    if not is_administrator():
        abort(403)


# Signing in and out


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render("login.html", error=None)
    signin.check_csrf()
    session = db_session()
    try:
        account = authenticate(
            session,
            school_id=request.form.get("school_id") or DEFAULT_SCHOOL,
            login=request.form.get("login", ""),
            password=request.form.get("password", ""),
            ip=client_address(),
        )
    except InvalidCredentials:
        return render("login.html", error=word("bad_login")), 401
    if not signin.CONSOLE_ROLES & set(account.roles) and not account.must_change_password:
        session.commit()
        return render("login.html", error=word("no_console_role")), 403
    signin.start(account)
    session.commit()
    return redirect(_safe_next(request.args.get("next")))


def _safe_next(target: str | None) -> str:
    # Only a path of the console itself: never an open redirect.
    if target and target.startswith("/console/") and "//" not in target:
        return target
    return url_for("console.people_list")


@blueprint.post("/logout")
@signed_in
def logout() -> Any:
    signin.end()
    db_session().commit()
    return redirect(url_for("console.login"))


@blueprint.route("/password", methods=["GET", "POST"])
@signed_in
def password() -> Any:
    if request.method == "GET":
        return render("password.html", error=None)
    account: Account = g.account
    refusal = attempt(
        lambda: credentials.change_password(
            db_session(), account, request.form.get("current", ""), request.form.get("new", "")
        )
    )
    if refusal is not None:
        return render("password.html", error=refusal.message), status_of(refusal)
    return render("message.html", message=word("password_changed"))


# People


@blueprint.get("/")
@signed_in
def home() -> Any:
    return redirect(url_for("console.people_list"))


@blueprint.get("/people")
@signed_in
def people_list() -> Any:
    query = select(Person).where(reach.reachable(g.principal))  # R-ROLE-3: own classes only
    kind = request.args.get("kind") or ""
    text = request.args.get("q") or ""
    if kind:
        query = query.where(Person.kind == kind)
    if text:
        query = query.where(Person.last_name.startswith(text, autoescape=True))
    found = db_session().scalars(query.order_by(Person.last_name, Person.first_name).limit(PAGE))
    return render("people.html", people=list(found), kind=kind, q=text)


@blueprint.route("/people/new", methods=["GET", "POST"])
@signed_in
def person_new() -> Any:
    administrators_only()
    if request.method == "GET":
        return render("person_form.html", person=None, errors={}, roles=people.STAFF_ROLES)
    values = form_values(
        "kind", "last_name", "first_name", "middle_name", "birth_date", "email", "phone", "roles"
    )
    values["language"] = request.form.get("language") or "ru"
    created: list[Person] = []
    try:
        form = PersonInSchema().load({k: v for k, v in values.items() if v is not None})
    except ValidationError as error:
        errors = {name: _first(problem) for name, problem in error.normalized_messages().items()}
        return render(
            "person_form.html", person=values, errors=errors, roles=people.STAFF_ROLES
        ), 422
    principal = g.principal
    refusal = attempt(
        lambda: created.append(
            people.create_person(db_session(), principal.school_id, principal.user_id, form)
        )
    )
    if refusal is not None:
        return render(
            "person_form.html",
            person=values,
            errors={"": refusal.message},
            roles=people.STAFF_ROLES,
        ), status_of(refusal)
    return redirect(url_for("console.person_page", person_id=created[0].id))


def _first(problem: Any) -> str:
    return str(problem[0] if isinstance(problem, list) else problem)


def own_person(person_id: str) -> Person:
    """A person the signed-in user may reach (identity/reach.py); anyone else is a 404."""
    person = reach.person_in_reach(db_session(), g.principal, person_id)
    if person is None:
        abort(404)
    return person


def person_view(person: Person, status: int = 200, **shown: Any) -> tuple[str, int]:
    session = db_session()
    links = session.scalars(
        select(Guardianship).where(
            (Guardianship.guardian_id == person.id) | (Guardianship.student_id == person.id)
        )
    )
    link_rows = []
    for link in links:
        other_id = link.student_id if link.guardian_id == person.id else link.guardian_id
        other = reach.person_in_reach(session, g.principal, other_id)
        if other is not None:  # a guardian's child in another class stays unnamed
            link_rows.append((link, other))
    page = render(
        "person.html",
        person=person,
        account=session.get(Account, person.id),
        links=link_rows,
        reasons=BLOCK_REASONS,
        roles=people.STAFF_ROLES,
        **{"secret": None, "code": None, "error": None, "notice": None, **shown},
    )
    return page, status


@blueprint.get("/people/<person_id>")
@signed_in
def person_page(person_id: str) -> Any:
    return person_view(own_person(person_id))


@blueprint.post("/people/<person_id>")
@signed_in
def person_edit(person_id: str) -> Any:
    administrators_only()
    person = own_person(person_id)
    values = form_values(
        "last_name", "first_name", "middle_name", "birth_date", "email", "phone", "roles"
    )
    values["language"] = request.form.get("language") or person.language
    if person.kind != "staff":
        values.pop("roles")
    try:
        changes = PersonUpdateSchema().load(values)
    except ValidationError as error:
        return person_view(person, 422, error=str(error.normalized_messages()))
    principal = g.principal
    refusal = attempt(
        lambda: people.update_person(db_session(), person, principal.user_id, changes)
    )
    if refusal is not None:
        return person_view(person, status_of(refusal), error=refusal.message)
    return person_view(person, notice=word("saved"))


def own_account(person: Person) -> Account:
    account = db_session().get(Account, person.id)
    if account is None:
        abort(404)
    return account


@blueprint.post("/people/<person_id>/block")
@signed_in
def person_block(person_id: str) -> Any:
    administrators_only()
    person = own_person(person_id)
    account = own_account(person)
    reason = request.form.get("reason")
    if reason not in BLOCK_REASONS:
        return person_view(person, 422, error=word("reason"))
    actor = g.principal.user_id
    refusal = attempt(lambda: people.block(db_session(), account, actor, reason))
    return person_view(person, status_of(refusal), error=message_of(refusal))


@blueprint.post("/people/<person_id>/unblock")
@signed_in
def person_unblock(person_id: str) -> Any:
    administrators_only()
    person = own_person(person_id)
    account = own_account(person)
    actor = g.principal.user_id
    refusal = attempt(lambda: people.unblock(db_session(), account, actor))
    return person_view(person, status_of(refusal), error=message_of(refusal))


@blueprint.post("/people/<person_id>/temporary-password")
@signed_in
def person_temporary_password(person_id: str) -> Any:
    administrators_only()
    person = own_person(person_id)
    account = own_account(person)
    issued: list[str] = []
    actor = g.principal.user_id
    refusal = attempt(
        lambda: issued.append(credentials.issue_temporary_password(db_session(), account, actor))
    )
    return person_view(
        person, status_of(refusal), error=message_of(refusal), secret=issued[0] if issued else None
    )


@blueprint.post("/people/<person_id>/guardianships")
@signed_in
def person_link(person_id: str) -> Any:
    administrators_only()
    guardian = own_person(person_id)
    student = db_session().get(Person, request.form.get("student_id", ""))
    if student is None or student.school_id != guardian.school_id:
        return person_view(guardian, 404, error=word("not_found"))
    principal = g.principal
    refusal = attempt(
        lambda: people.link_guardian(
            db_session(), principal.school_id, principal.user_id, guardian, student
        )
    )
    return person_view(guardian, status_of(refusal), error=message_of(refusal))


@blueprint.post("/guardianships/<link_id>/delete")
@signed_in
def link_delete(link_id: str) -> Any:
    administrators_only()
    link = db_session().get(Guardianship, link_id)
    if link is None or link.school_id != g.principal.school_id:
        abort(404)
    guardian_id = link.guardian_id
    principal = g.principal
    refusal = attempt(
        lambda: people.unlink_guardian(
            db_session(), principal.school_id, principal.user_id, link, "guardianship_ended"
        )
    )
    return person_view(own_person(guardian_id), status_of(refusal), error=message_of(refusal))


@blueprint.post("/people/<person_id>/invitations")
@signed_in
def person_invite(person_id: str) -> Any:
    student = own_person(person_id)
    issued: list[invitations.IssuedCode] = []
    principal = g.principal
    refusal = attempt(lambda: issued.append(invitations.issue(db_session(), principal, student)))
    status = status_of(refusal)
    return person_view(
        student, status, error=message_of(refusal), code=issued[0] if issued else None
    )


# Classes and slips


@blueprint.get("/classes")
@signed_in
def classes_list() -> Any:
    query = select(ClassCopy).where(ClassCopy.school_id == g.principal.school_id)
    if not is_administrator():
        query = query.where(ClassCopy.class_teacher_id == g.principal.user_id)
    return render(
        "classes.html", classes=list(db_session().scalars(query.order_by(ClassCopy.name)))
    )


@blueprint.post("/classes/<class_id>/slips")
@signed_in
def class_slips(class_id: str) -> Any:
    session = db_session()
    try:
        issued = invitations.issue_for_class(session, g.principal, class_id)
    except ApiError as error:
        session.rollback()
        abort(error.status)
    found = session.get(ClassCopy, class_id)
    students = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.id.in_([code.invitation.student_id for code in issued]))
        )
    }
    document = slips.class_slips(
        found.name if found else "", [(students[c.invitation.student_id], c) for c in issued]
    )
    session.commit()
    return Response(document, mimetype="application/pdf")


# Import and audit


@blueprint.route("/import", methods=["GET", "POST"])
@signed_in
def import_people() -> Any:
    administrators_only()
    if request.method == "GET":
        return render("import.html", report=None, error=None)
    upload = request.files.get("file")
    dry_run = request.form.get("dry_run") == "on"
    if upload is None or not upload.filename:
        return render("import.html", report=None, error=word("file")), 422
    session = db_session()
    principal = g.principal
    try:
        rows = imports.read_rows(upload.read())
    except ApiError as error:
        return render("import.html", report=None, error=error.message), 422
    checked = imports.plan(session, principal.school_id, rows)
    report = checked.report(dry_run)
    if checked.errors:
        return render("import.html", report=report, error=word("import_bad")), 422
    if not dry_run:
        imports.apply(session, principal.school_id, principal.user_id, checked)
        session.commit()
    return render("import.html", report=report, error=None)


@blueprint.get("/audit")
@signed_in
def audit_list() -> Any:
    administrators_only()
    query = select(AuditEntry).where(AuditEntry.school_id == g.principal.school_id)
    if action := request.args.get("action"):
        query = query.where(AuditEntry.action == action)
    if target := request.args.get("target"):
        query = query.where(AuditEntry.target_id == target)
    entries = db_session().scalars(query.order_by(AuditEntry.id.desc()).limit(PAGE))
    return render("audit.html", entries=list(entries))


# Self-registration with a code (no sign-in)


@blueprint.route("/register", methods=["GET", "POST"])
def register() -> Any:
    if request.method == "GET":
        return render("register.html", error=None, values={})
    signin.check_csrf()
    values = {
        k: v
        for k, v in form_values(
            "code", "login", "password", "last_name", "first_name", "middle_name", "email", "phone"
        ).items()
        if v is not None
    }
    try:
        form = RegistrationInSchema().load(values)
    except ValidationError as error:
        return render("register.html", error=str(error.normalized_messages()), values=values), 422
    session = db_session()
    try:
        invitations.redeem(session, form, client_address())
    except ApiError as error:
        session.rollback()
        return render("register.html", error=error.message, values=values), error.status
    session.commit()
    return render("message.html", message=word("registered"))
