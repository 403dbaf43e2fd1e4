"""Keyset paging of a list route: `?limit=` and `?cursor=`, the next page in a `Link` header.

A page is the rows after the last one of the previous page in the list's own order, so a
row added or removed meanwhile neither repeats nor hides another, and a deep page costs
what the first one does (no OFFSET). The cursor is opaque to clients: the sort values of
the last row, as base64url JSON; it names no person beyond the ids the page showed.

    paging = page_request(default=100, maximum=500)
    rows, next_cursor = keyset_page(session, query, (Table.created_at, Table.id), paging,
                                    descending=True)
    return body, 200, link_header(next_cursor)

A `limit` outside 1..maximum or a cursor that is not one of ours is a 422 naming the field.
The order columns must end with a unique one (the id), so that the order is total.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import request
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from schoolkit.errors import ApiError

Row = TypeVar("Row")


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: list[Any] | None  # the sort values of the previous page's last row, as JSON


def page_request(default: int, maximum: int) -> PageRequest:
    """The `limit` and `cursor` of this request, checked."""
    text = request.args.get("limit")
    limit = default if text in (None, "") else _int_or_none(text)
    if limit is None or not 1 <= limit <= maximum:
        raise ApiError(
            422,
            "invalid_limit",
            f"limit must be a whole number from 1 to {maximum}.",
            {"limit": f"From 1 to {maximum}."},
        )
    cursor = request.args.get("cursor")
    return PageRequest(limit, _decoded(cursor) if cursor else None)


def keyset_page(
    session: Session,
    query: Select[tuple[Row]],
    order: Sequence[InstrumentedAttribute[Any]],
    paging: PageRequest,
    *,
    descending: bool = False,
) -> tuple[list[Row], str | None]:
    """One page of `query` in `order` and the cursor of the next page (None: the last)."""
    if paging.after is not None:
        if len(paging.after) != len(order):
            raise _bad_cursor()
        after = [_typed(column, value) for column, value in zip(order, paging.after, strict=True)]
        key, bound = tuple_(*order), tuple_(*after)
        query = query.where(key < bound if descending else key > bound)
    ordering = [column.desc() if descending else column.asc() for column in order]
    rows = list(session.scalars(query.order_by(*ordering).limit(paging.limit + 1)))
    if len(rows) <= paging.limit:
        return rows, None
    rows = rows[: paging.limit]
    last = rows[-1]
    return rows, _encoded([_plain(getattr(last, column.key)) for column in order])


def link_header(next_cursor: str | None) -> Mapping[str, str]:
    """`Link: <…?cursor=…>; rel="next"` (RFC 8288) with this request's other parameters."""
    if next_cursor is None:
        return {}
    params = {name: value for name, value in request.args.items() if name != "cursor"}
    params["cursor"] = next_cursor
    return {"Link": f'<{request.path}?{urlencode(params)}>; rel="next"'}


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _encoded(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decoded(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise _bad_cursor() from error
    if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
        raise _bad_cursor()
    return values


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _typed(column: InstrumentedAttribute[Any], value: Any) -> Any:
    """The cursor's JSON value as the column's Python type (dates come back as text)."""
    try:
        kind = column.type.python_type
        if kind is datetime:
            return datetime.fromisoformat(value)
        if kind is date:
            return date.fromisoformat(value)
        return kind(value)
    except (TypeError, ValueError) as error:
        raise _bad_cursor() from error


def _bad_cursor() -> ApiError:
    return ApiError(
        422,
        "invalid_cursor",
        "cursor must be the one a previous page's Link header gave.",
        {"cursor": "Not a cursor of this list."},
    )
