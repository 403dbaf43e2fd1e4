"""Grading scales and work types (R-JRN-4, R-JRN-10).

A scale is data, not code: a list of the marks it allows, each with the score that
averages use and whether it passes. Four scales are built in (five_point, pass_fail,
ten_point, hundred_point); a school adds its own under a code of its choosing. A work type
(«Контрольная работа», weight 2) names the scale its marks are given on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal import audit
from journal.models import GradingScale, WorkType
from schoolkit.auth import Principal
from schoolkit.errors import ApiError


def _numeric(low: int, high: int, passes_from: int) -> list[dict[str, Any]]:
    return [
        {"mark": str(score), "score": score, "passing": score >= passes_from}
        for score in range(low, high + 1)
    ]


BUILT_IN: dict[str, dict[str, Any]] = {
    "five_point": {"name": "Пятибалльная", "marks": _numeric(1, 5, 3)},
    "pass_fail": {
        "name": "Зачёт / незачёт",
        "marks": [
            {"mark": "pass", "label": "зачёт", "score": None, "passing": True},
            {"mark": "fail", "label": "незачёт", "score": None, "passing": False},
        ],
    },
    "ten_point": {"name": "Десятибалльная", "marks": _numeric(1, 10, 4)},
    "hundred_point": {"name": "Стобалльная", "marks": _numeric(0, 100, 50)},
}


def scales_of(session: Session, school_id: str) -> list[dict[str, Any]]:
    built_in = [{"code": code, "built_in": True, **scale} for code, scale in BUILT_IN.items()]
    query = select(GradingScale).where(GradingScale.school_id == school_id)
    own = [_as_dict(scale) for scale in session.scalars(query.order_by(GradingScale.code))]
    return built_in + own


def scale_marks(session: Session, school_id: str, code: str) -> list[dict[str, Any]]:
    """The marks the scale `code` allows in this school (404 when it has no such scale)."""
    if code in BUILT_IN:
        return list(BUILT_IN[code]["marks"])
    scale = _own_scale(session, school_id, code)
    return marks_of(code, scale.marks if scale is not None else None)


def marks_of(code: str, own_marks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The marks of the scale `code`, given the marks of the school's own scale of that
    code as already read (None when it has none): 404 when neither has it."""
    if code in BUILT_IN:
        return list(BUILT_IN[code]["marks"])
    if own_marks is None:
        raise ApiError(404, "scale_not_found", "No such grading scale.", {"scale": "Unknown."})
    return list(own_marks)


def create_scale(session: Session, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    code = fields["code"]
    if code in BUILT_IN or _own_scale(session, caller.school_id, code) is not None:
        raise ApiError(
            409, "scale_exists", "A grading scale of that code exists.", {"code": "Taken."}
        )
    marks = [mark["mark"] for mark in fields["marks"]]
    if len(set(marks)) != len(marks):
        raise ApiError(
            422, "duplicate_marks", "A scale lists each mark once.", {"marks": "Repeated."}
        )
    scale = GradingScale(school_id=caller.school_id, **fields)
    session.add(scale)
    session.flush()
    audit.record_by(
        session, caller, "added", "grading_scale", scale.scale_id, before=None, after=fields
    )
    return _as_dict(scale)


def create_work_type(session: Session, caller: Principal, fields: dict[str, Any]) -> WorkType:
    school_id = caller.school_id
    scale_marks(session, school_id, fields["scale"])  # the scale must exist in this school
    taken = select(WorkType).where(WorkType.school_id == school_id, WorkType.code == fields["code"])
    if session.scalars(taken).first() is not None:
        raise ApiError(
            409, "work_type_exists", "A work type of that code exists.", {"code": "Taken."}
        )
    work_type = WorkType(school_id=school_id, **fields)
    session.add(work_type)
    session.flush()
    audit.record_by(
        session, caller, "added", "work_type", work_type.work_type_id, before=None, after=fields
    )
    return work_type


def work_type_of(session: Session, school_id: str, work_type_id: str) -> WorkType:
    work_type = session.get(WorkType, str(work_type_id))
    if work_type is None or work_type.school_id != school_id:
        raise unknown_work_type()
    return work_type


def unknown_work_type() -> ApiError:
    return ApiError(404, "work_type_not_found", "No such work type.", {"work_type_id": "Unknown."})


def _own_scale(session: Session, school_id: str, code: str) -> GradingScale | None:
    query = select(GradingScale).where(
        GradingScale.school_id == school_id, GradingScale.code == code
    )
    return session.scalars(query).first()


def _as_dict(scale: GradingScale) -> dict[str, Any]:
    return {"code": scale.code, "name": scale.name, "built_in": False, "marks": scale.marks}
