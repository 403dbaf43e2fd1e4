"""The notify HTTP API under /api/notify/v1: thin routes (parse, call, serialise)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy import select

from notify import templates, unsubscribe
from notify.categories import CATEGORIES, all_choices
from notify.config import DeliveryConfig
from notify.models import Contact, Delivery, Preference, Template
from notify.news import rhythm_of
from notify.schemas import DeliveryPageSchema, PreferenceSchema, TemplateListSchema, TemplateSchema
from schoolkit import tombstones
from schoolkit.auth import (
    ADMINISTRATOR,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    current_principal,
    require_auth,
    require_roles,
)
from schoolkit.errors import ApiError, load_json
from schoolkit.paging import keyset_page, link_header, page_request
from schoolkit.times import school_zone
from schoolkit.web import db_session

blueprint = Blueprint("notify", __name__, url_prefix="/v1")

STATUSES = (
    "created",
    "pending",
    "claimed",
    "sending",
    "sent",
    "delivered",
    "failed",
    "cancelled",
)
PAGE_LIMIT = 100
MAX_PAGE_LIMIT = 500


@blueprint.get("/deliveries")
@require_roles(ADMINISTRATOR, DIRECTOR, DEPUTY_DIRECTOR)
def list_deliveries() -> Any:
    """Deliveries of the school, newest first: whether each notice reached its person,
    a page at a time.
    ---
    get:
      parameters:
      - {in: query, name: recipient_id, schema: {type: string}}
      - {in: query, name: status, schema: {type: string, enum: [created, pending, claimed, sending, sent, delivered, failed, cancelled]}}
      - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 500, default: 100}}
      - in: query
        name: cursor
        description: The previous page's `next`; absent for the first page.
        schema: {type: string}
      responses:
        200:
          description: >-
            One page (ids and status only). `next` is the cursor of the following page,
            null on the last one; the `Link` header (rel="next") names the same page.
          headers:
            Link: {schema: {type: string}, description: 'The next page, rel="next".'}
          content:
            application/json:
              schema: DeliveryPage
        422:
          description: An unknown status (invalid_status), a limit outside 1..500
            (invalid_limit) or a cursor not given by us (invalid_cursor).
    """
    paging = page_request(default=PAGE_LIMIT, maximum=MAX_PAGE_LIMIT)
    query = select(Delivery).where(Delivery.school_id == current_principal().school_id)
    if recipient_id := request.args.get("recipient_id"):
        query = query.where(Delivery.recipient_id == recipient_id)
    if status := request.args.get("status"):
        if status not in STATUSES:
            raise ApiError(422, "invalid_status", f"status must be one of {', '.join(STATUSES)}.")
        query = query.where(Delivery.status == status)
    order = (Delivery.created_at, Delivery.id)
    rows, next_cursor = keyset_page(db_session(), query, order, paging, descending=True)
    body = DeliveryPageSchema().dump({"items": rows, "next": next_cursor})
    return body, 200, link_header(next_cursor)


@blueprint.get("/preferences/<person_id>")
@require_auth
def read_preferences(person_id: str) -> Any:
    """A person's channels (the person themself or an administrator).
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: Preference
        404: NotFound
    """
    preference = _preference_of(person_id)
    return _dump(person_id, preference)


@blueprint.put("/preferences/<person_id>")
@require_auth
def write_preferences(person_id: str) -> Any:
    """Choose channels, cadences per category and channel, quiet hours and the digest time;
    notices the law demands are sent whatever is chosen.
    ---
    put:
      requestBody:
        content:
          application/json:
            schema: Preference
      responses:
        200:
          content:
            application/json:
              schema: Preference
        404: NotFound
        422:
          description: A field that is not valid, named in `fields` (an empty quiet-hours
            window, a time of day that does not exist, an unknown category or cadence).
    """
    preference = _preference_of(person_id)
    wanted = load_json(PreferenceSchema())
    session = db_session()
    if preference is None:
        preference = Preference(
            person_id=person_id, school_id=current_principal().school_id, choices={}
        )
        session.add(preference)
    _apply(preference, wanted)
    session.commit()
    return _dump(person_id, preference)


def _apply(preference: Preference, wanted: dict[str, Any]) -> None:
    """Only what was sent changes; choices merge per category and channel."""
    for switch in ("email", "sms", "digest_at", "weekly_on"):
        if switch in wanted:
            setattr(preference, switch, wanted[switch])
    if "quiet_hours" in wanted:
        preference.quiet_from = wanted["quiet_hours"]["start"]
        preference.quiet_until = wanted["quiet_hours"]["until"]
    if "categories" in wanted:
        merged = {category: dict(chosen) for category, chosen in (preference.choices or {}).items()}
        for category, chosen in wanted["categories"].items():
            merged.setdefault(category, {}).update(chosen)
        preference.choices = merged  # a new object, so the JSON column is written


@blueprint.get("/templates")
@require_roles(ADMINISTRATOR)
def list_templates() -> Any:
    """The wording of every category's news in every language: the school's newest
    version, or notify's own (`builtin`, shown without a body: it varies with the change).
    ---
    get:
      responses:
        200:
          content:
            application/json:
              schema: TemplateList
    """
    school = current_principal().school_id
    own = templates.of_school(db_session(), school)
    items = [
        _template_view(category, language, own.get((category, language)))
        for category in CATEGORIES
        for language in templates.LANGUAGES
    ]
    return TemplateListSchema().dump({"items": items})


@blueprint.put("/templates")
@require_roles(ADMINISTRATOR)
def save_template() -> Any:
    """Save a new version of a category's wording in one language; refused when broken.
    ---
    put:
      requestBody:
        content:
          application/json:
            schema: Template
      responses:
        200:
          content:
            application/json:
              schema: Template
        422:
          description: Named in `fields` - an unknown placeholder or unpaired braces
            (`subject`, `body`), a body over one SMS part with a long name (`body`).
    """
    wanted = load_json(TemplateSchema())
    found = templates.problems(wanted["category"], wanted["subject"], wanted["body"])
    if found:
        raise ApiError(422, "invalid_template", "The template cannot be used.", fields=found)
    principal = current_principal()
    session = db_session()
    template = templates.save(session, principal.school_id, wanted, principal.user_id)
    session.commit()
    return TemplateSchema().dump(_template_view(template.category, template.language, template))


@blueprint.post("/templates/preview")
@require_roles(ADMINISTRATOR)
def preview_template() -> Any:
    """What a template would say, with a long name and sample facts, before it is saved;
    the same refusal as saving it when it is broken.
    ---
    post:
      requestBody:
        content:
          application/json:
            schema: Template
      responses:
        200:
          content:
            application/json:
              schema: Template
        422:
          description: As for PUT /templates, naming `subject` or `body`.
    """
    wanted = load_json(TemplateSchema())
    found = templates.problems(wanted["category"], wanted["subject"], wanted["body"])
    if found:
        raise ApiError(422, "invalid_template", "The template cannot be used.", fields=found)
    view = _template_view(wanted["category"], wanted["language"], None)
    view.update(
        subject=wanted["subject"],
        body=wanted["body"],
        builtin=False,
        preview=templates.preview(
            wanted["category"], wanted["language"], wanted["subject"], wanted["body"]
        ),
    )
    return TemplateSchema().dump(view)


def _template_view(category: str, language: str, template: Template | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "category": category,
        "language": language,
        "placeholders": sorted(templates.PLACEHOLDERS[category] | templates.EVERY_TEMPLATE),
        "builtin": template is None,
    }
    if template is not None:
        view.update(
            subject=template.subject,
            body=template.body,
            version=template.version,
            saved_at=template.saved_at,
            preview=templates.preview(category, language, template.subject, template.body),
        )
    return view


@blueprint.post("/unsubscribe")
def unsubscribe_from_digests() -> Any:
    """One-click unsubscribe from e-mail digests (RFC 8058), from the link in a digest's
    `List-Unsubscribe` header: no sign-in, the signed token is the authority.
    ---
    post:
      security: []
      parameters:
      - in: query
        name: token
        required: true
        description: The token of the digest's link.
        schema: {type: string}
      responses:
        200:
          description: Every e-mail digest of the person is off; legal notices still go.
        404:
          description: A token notify did not sign, or a person no longer known.
    """
    config = DeliveryConfig.from_env()
    found = unsubscribe.read_token(config.unsubscribe_secret or "", request.args.get("token", ""))
    if found is None:
        raise _no_such_person()
    person_id, school_id = found
    session = db_session()
    tombstones.refuse_erased(session, school_id, person_id, not_found=_no_such_person())
    preference = session.get(Preference, person_id)
    if preference is not None and preference.school_id != school_id:
        raise _no_such_person()
    if preference is None:
        preference = Preference(person_id=person_id, school_id=school_id, choices={})
        session.add(preference)
    unsubscribe.stop_email_digests(preference)
    session.commit()
    return {"person_id": person_id, "email_digests": "never"}


def _preference_of(person_id: str) -> Preference | None:
    """Only the person or an administrator of their school; anyone else gets a 404.

    An administrator names a person of their own school: one notify knows there (a
    preference, or the contact identity sent). Another school's person, or one never
    heard of, is a 404, so no one can silence someone else's e-mail and SMS. So is one
    erased in the school (DESIGN §4 6a): nothing may be written for them again, even with
    a token of theirs that the deny-list has not refused yet.
    """
    principal = current_principal()
    if principal.user_id != person_id and not principal.has_any_role(ADMINISTRATOR):
        raise ApiError(404, "not_found", "No such person.")
    session = db_session()
    tombstones.refuse_erased(session, principal.school_id, person_id, not_found=_no_such_person())
    preference = session.get(Preference, person_id)
    if preference is not None and preference.school_id != principal.school_id:
        raise ApiError(404, "not_found", "No such person.")
    if preference is None and principal.user_id != person_id:
        contact = session.get(Contact, person_id)
        if contact is None or contact.school_id != principal.school_id:
            raise ApiError(404, "not_found", "No such person.")
    return preference


def _no_such_person() -> ApiError:
    return ApiError(404, "not_found", "No such person.")


def _dump(person_id: str, preference: Preference | None) -> dict[str, Any]:
    rhythm = rhythm_of(preference, DeliveryConfig.from_env())
    chosen = {
        "email": True if preference is None else preference.email,
        "sms": True if preference is None else preference.sms,
        "categories": all_choices(preference.choices if preference else {}),
        "quiet_hours": {
            "start": rhythm.quiet_from.strftime("%H:%M"),
            "until": rhythm.quiet_until.strftime("%H:%M"),
        },
        "digest_at": rhythm.digest_at.strftime("%H:%M"),
        "weekly_on": rhythm.weekly_on,
    }
    body: dict[str, Any] = PreferenceSchema().dump(chosen)
    body.update(person_id=person_id, legal_notices_always_sent=True, time_zone=school_zone().key)
    return body
