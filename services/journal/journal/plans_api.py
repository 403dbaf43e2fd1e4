"""Calendar-thematic plans under /api/journal/v1/plans (R-JRN-5): thin routes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from journal import plans
from journal.models import ThematicPlan
from journal.schemas import PlanProgressSchema, PlanSchema, PlanTopicsSchema
from schoolkit.auth import (
    CLASS_TEACHER,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    SUBJECT_TEACHER,
    current_principal,
    require_roles,
)
from schoolkit.errors import load_json
from schoolkit.web import db_session

blueprint = Blueprint("plans", __name__, url_prefix="/v1")

PLANNERS = (SUBJECT_TEACHER, CLASS_TEACHER, DIRECTOR, DEPUTY_DIRECTOR)  # R-ROLE-2, R-ROLE-4
FILTERS = ("subject_id", "class_id", "group_id", "period_id")


@blueprint.post("/plans")
@require_roles(*PLANNERS)
def create_plan() -> Any:
    """Plan a subject's topics per lesson number for a class or a group in a period.
    ---
    post:
      requestBody: {content: {application/json: {schema: Plan}}}
      responses:
        201: {content: {application/json: {schema: Plan}}}
        403: {description: Not the teacher of the subject there (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
        409: {description: The subject has a plan there for the period (plan_exists).}
        422: {description: A lesson number given twice (duplicate_lesson_numbers).}
    """
    session = db_session()
    plan = plans.create_plan(session, current_principal(), load_json(PlanSchema()))
    session.commit()
    return _dump(plan), 201


@blueprint.put("/plans/<plan_id>/topics")
@require_roles(*PLANNERS)
def replace_topics(plan_id: str) -> Any:
    """Replace the plan's topics (the change is audited with the topics before and after).
    ---
    put:
      parameters: [{name: plan_id, in: path, required: true, schema: {type: string}}]
      requestBody: {content: {application/json: {schema: PlanTopics}}}
      responses:
        200: {content: {application/json: {schema: Plan}}}
        403: {description: Not the teacher of the subject there (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
    """
    session = db_session()
    topics = load_json(PlanTopicsSchema())["topics"]
    plan = plans.replace_topics(session, current_principal(), plan_id, topics)
    session.commit()
    return _dump(plan)


@blueprint.get("/plans")
@require_roles(*PLANNERS)
def list_plans() -> Any:
    """The plans the caller may read, narrowed by subject_id, class_id, group_id, period_id.
    ---
    get:
      responses:
        200: {content: {application/json: {schema: {type: array, items: Plan}}}}
    """
    filters = {name: request.args[name] for name in FILTERS if request.args.get(name)}
    found = plans.plans_for(db_session(), current_principal(), filters)
    return [_dump(plan) for plan in found]


@blueprint.get("/plans/<plan_id>")
@require_roles(*PLANNERS)
def read_plan(plan_id: str) -> Any:
    """The plan with its rows: lesson n's planned topic against the n-th lesson held.
    ---
    get:
      parameters: [{name: plan_id, in: path, required: true, schema: {type: string}}]
      responses:
        200: {content: {application/json: {schema: PlanProgress}}}
        403: {description: Not leading the class nor teaching the subject there (not_your_class) to staff who see the class; for anyone else 404, as for an unknown id.}
    """
    session = db_session()
    plan = plans.plan_for_reading(session, current_principal(), plan_id)
    rows = plans.planned_against_held(session, plan)
    return PlanProgressSchema().dump({**_fields(plan), "rows": rows})


def _dump(plan: ThematicPlan) -> dict[str, Any]:
    return PlanSchema().dump(_fields(plan))


def _fields(plan: ThematicPlan) -> dict[str, Any]:
    topics = plans.topics_of(db_session(), plan)
    return {
        "plan_id": plan.plan_id,
        "subject_id": plan.subject_id,
        "class_id": plan.class_id,
        "group_id": plan.group_id,
        "period_id": plan.period_id,
        "created_by": plan.created_by,
        "version": plan.version,
        "topics": [{"lesson_number": t.lesson_number, "topic": t.topic} for t in topics],
    }
