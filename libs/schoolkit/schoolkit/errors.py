"""Every error as JSON: `{"error": {"code": ..., "message": ..., "fields": {...}}}` (DESIGN §9)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, NoReturn

from flask import Flask, Request, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

from schoolkit.times import instant_iso

log = logging.getLogger(__name__)

# Headers of an HTTP exception worth passing on; its Content-Type (HTML) is not.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


class ApiError(Exception):
    """An error the client should see, with a stable machine-readable `code`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


class UnusableJson(ValueError):
    """JSON that parses, or nearly, but that no handler could store: said in its message."""


class StrictJsonProvider(DefaultJSONProvider):
    """Request bodies a handler can use, or a ValueError before any handler runs; and
    answers whose dates are ISO 8601, an instant always with its offset (schoolkit.times),
    where Flask's default would write RFC 822 HTTP dates and lose the offset's form.

    Two kinds of body get past a JSON parser and then fail deep inside: nesting thousands
    of levels deep (Python's parser raises RecursionError, not ValueError) and a lone
    UTF-16 surrogate ("\\ud800" is valid JSON, but no database or password hash takes it).
    Both would be a 500 in whatever handler met them first; here they are a 400.
    """

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return instant_iso(o)
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise UnusableJson("The request body nests too deeply.") from None
        _refuse_lone_surrogates(value)
        return value


def _refuse_lone_surrogates(value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise UnusableJson(
                    "The request body holds text that is not valid Unicode (a lone surrogate)."
                ) from None
            if "\x00" in item:
                raise UnusableJson(NUL_MESSAGE.format(where="request body"))


# PostgreSQL's text cannot hold a NUL character: the query that met one would be a 500.
NUL_MESSAGE = "The {where} holds a NUL character (\\u0000), which no text field takes."


def refuse_nul_in_address(texts: Iterable[str]) -> None:
    """A NUL in the path or a query parameter is a 400, before any handler reads it."""
    if any("\x00" in text for text in texts):
        raise ApiError(400, "invalid_characters", NUL_MESSAGE.format(where="address"))


class StrictJsonRequest(Request):
    """Tells a body that is not JSON (400 `invalid_json`) from a request that is not JSON (415)."""

    def on_json_loading_failed(self, e: ValueError | None) -> NoReturn:
        if e is None:
            raise ApiError(
                415, "unsupported_media_type", "The request body must be sent as application/json."
            )
        message = str(e) if isinstance(e, UnusableJson) else "The request body is not valid JSON."
        raise ApiError(400, "invalid_json", message)


def load_json(schema: Schema) -> dict[str, Any]:
    """The request's JSON object, validated by `schema` (a ValidationError becomes a 422)."""
    body = request.get_json()
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_body", "The request body must be a JSON object.")
    return schema.load(body)  # type: ignore[no-any-return]


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "fields": dict(fields or {})}})
    response.status_code = status
    response.headers.update(dict(headers or {}))
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    """Marshmallow's nested messages as `{"field.sub": "what is wrong"}`."""
    if isinstance(messages, dict):
        flat: dict[str, str] = {}
        for key, value in messages.items():
            flat.update(flatten_messages(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(messages, list):
        return {prefix or "_schema": " ".join(str(message) for message in messages)}
    return {prefix or "_schema": str(messages)}


def _code_of(error: HTTPException) -> str:
    if error.code == 500:
        return "internal_error"
    return re.sub(r"[^a-z0-9]+", "_", (error.name or "error").lower()).strip("_")


def _on_api_error(error: ApiError) -> Response:
    return error_response(error.status, error.code, error.message, error.fields, error.headers)


def _on_http_exception(error: HTTPException) -> Response:
    kept = {name: value for name, value in error.get_headers() if name in _KEPT_HEADERS}
    return error_response(
        error.code or 500, _code_of(error), error.description or error.name, headers=kept
    )


def _on_validation_error(error: ValidationError) -> Response:
    return error_response(
        422,
        "validation_failed",
        "Some fields are missing or invalid.",
        flatten_messages(error.normalized_messages()),
    )


def _on_unexpected(error: Exception) -> Response:
    # The traceback helps us; the request body might hold personal data, so it stays out.
    rule = request.url_rule.rule if request.url_rule else None
    log.error(
        "unhandled error",
        exc_info=error,
        extra={"method": request.method, "route": rule, "error_type": type(error).__name__},
    )
    return error_response(500, "internal_error", "Something went wrong on our side.")


def register_error_handlers(app: Flask) -> None:
    """JSON for every error; also installs the request class that tells 400 from 415 and
    the JSON provider that refuses bodies no handler could use."""
    app.request_class = StrictJsonRequest
    app.json = StrictJsonProvider(app)
    app.register_error_handler(ApiError, _on_api_error)
    app.register_error_handler(HTTPException, _on_http_exception)
    app.register_error_handler(ValidationError, _on_validation_error)
    app.register_error_handler(Exception, _on_unexpected)
