"""The journal app plus one bare endpoint, for bench/journal only (never deployed).

POST /api/journal/v1/bench/bare-marks takes the same body and the same token as
POST /marks and does only what any write must: authenticate, parse, insert the mark and
its event into the outbox, commit. Recording a mark through the API also checks the
teaching load, the lock and the scale, and appends to the school's audit chain; the
ratio of the two rates is what those cost.

    gunicorn -c python:schoolkit.gunicorn_conf 'bare:create_app()'   (with bench/journal on PYTHONPATH)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask

from journal.app import create_app as create_journal_app
from journal.lessons import mark_recorded_event
from journal.models import Lesson, Mark, WorkType
from journal.schemas import MarkSchema
from schoolkit.auth import SUBJECT_TEACHER, current_principal, require_roles
from schoolkit.errors import load_json
from schoolkit.outbox import publish
from schoolkit.web import db_session

bare = Blueprint("bench_bare", __name__, url_prefix="/v1/bench")


@bare.post("/bare-marks")
@require_roles(SUBJECT_TEACHER)
def bare_mark() -> Any:
    caller, fields = current_principal(), load_json(MarkSchema())
    session = db_session()
    mark = Mark(
        school_id=caller.school_id,
        lesson_id=str(fields["lesson_id"]),
        student_id=str(fields["student_id"]),
        work_type_id=str(fields["work_type_id"]),
        value=fields["value"],
        teacher_id=caller.user_id,
        recorded_at=datetime.now(UTC),
        version=1,
    )
    session.add(mark)
    session.flush()
    # The same event as the API's, so contract checking costs the same on both sides.
    event = mark_recorded_event(
        session.get(Lesson, mark.lesson_id), mark, session.get(WorkType, mark.work_type_id)
    )
    publish(session, event)
    session.commit()
    return {"mark_id": mark.mark_id}, 201


def create_app() -> Flask:
    app = create_journal_app()
    app.register_blueprint(bare, url_prefix="/api/journal/v1/bench")
    return app
