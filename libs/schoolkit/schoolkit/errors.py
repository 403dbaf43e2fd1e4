"""Every error as JSON: `{"error": {"code": ..., "message": ..., "fields": {...}}}` (DESIGN §9)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from flask import Flask, Request, Response, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException

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


class StrictJsonRequest(Request):
    """Tells a body that is not JSON (400 `invalid_json`) from a request that is not JSON (415)."""

    def on_json_loading_failed(self, e: ValueError | None) -> NoReturn:
        if e is None:
            raise ApiError(
                415, "unsupported_media_type", "The request body must be sent as application/json."
            )
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.")


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
    """JSON for every error; also installs the request class that tells 400 from 415."""
    app.request_class = StrictJsonRequest
    app.register_error_handler(ApiError, _on_api_error)
    app.register_error_handler(HTTPException, _on_http_exception)
    app.register_error_handler(ValidationError, _on_validation_error)
    app.register_error_handler(Exception, _on_unexpected)
