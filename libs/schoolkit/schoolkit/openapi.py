"""The OpenAPI 3 document of a service, built from its views' docstrings (apispec).

A view is documented by a YAML block after `---` in its docstring (apispec's
convention). Path parameters come from the URL rule; a view guarded by
`require_auth`/`require_roles` gets the bearer security requirement and its 401/403
responses without repeating them.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask
from marshmallow import Schema, fields
from werkzeug.routing import Rule

from schoolkit.auth import ROLES_ATTRIBUTE

OPENAPI_VERSION = "3.0.3"
BEARER_SCHEME = "bearerAuth"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

STANDARD_RESPONSES = {
    "BadRequest": "The request cannot be read (for example, malformed JSON).",
    "Unauthorized": "No valid access token.",
    "Forbidden": "The token's roles do not allow this.",
    "NotFound": "No such resource.",
    "Conflict": "The request conflicts with the resource's current state.",
    "ValidationFailed": "Some fields are missing or invalid; `fields` names each.",
    "UnsupportedMediaType": "The body was not sent as application/json.",
}

# `<int:mark_id>` → converter "int", name "mark_id"; a bare `<mark_id>` is a string.
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
CONVERTER_TYPES = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable."})
    message = fields.String(required=True, metadata={"description": "For people."})
    # "fields" would shadow Schema.fields: the attribute is named otherwise, the key is not.
    field_errors = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Each invalid field (dotted path) and what is wrong with it."},
    )


class ErrorResponseSchema(Schema):
    error = fields.Nested(ErrorSchema, required=True)


class KitAnswersPlugin(BasePlugin):
    """Adds the answers the kit gives on its own: 400 to every operation; 415 and 422 to
    those with a JSON body; the bearer requirement and 401/403 to guarded views, and 404 to
    those whose path names an object: an unknown id, and one out of the caller's reach,
    answer 404 alike on every such route (tests/authz)."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if operations is None:
            return
        roles = getattr(kwargs.get("view"), ROLES_ATTRIBUTE, None)
        for method, operation in operations.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            # A NUL in the path or the query is a 400 on every route (errors.py).
            _answer(operation.setdefault("responses", {}), 400, "BadRequest")
            _document_json_body_answers(operation)
            if roles is None:
                continue
            operation.setdefault("security", [{BEARER_SCHEME: []}])
            responses = operation.setdefault("responses", {})
            _answer(responses, 401, "Unauthorized")
            if roles:
                _answer(responses, 403, "Forbidden")
                operation.setdefault("x-roles", sorted(roles))
            if "{" in (path or ""):
                _answer(responses, 404, "NotFound")


def _answer(responses: dict[Any, Any], status: int, standard: str) -> None:
    """The standard response for `status`, unless the docstring gives its own (YAML reads
    its keys as numbers, apispec's as strings: either counts)."""
    if status not in responses and str(status) not in responses:
        responses[str(status)] = standard


def _document_json_body_answers(operation: dict[str, Any]) -> None:
    """A JSON body that is not JSON is a 400, one not sent as JSON a 415 (errors.py), and
    one its schema refuses a 422 naming the fields (every body is loaded by its schema)."""
    content = (operation.get("requestBody") or {}).get("content") or {}
    if "application/json" in content:
        responses = operation.setdefault("responses", {})
        _answer(responses, 400, "BadRequest")
        _answer(responses, 415, "UnsupportedMediaType")
        _answer(responses, 422, "ValidationFailed")


def build_openapi(app: Flask) -> dict[str, Any]:
    kit = app.extensions["schoolkit"]
    spec = APISpec(
        title=kit.title,
        version=kit.version,
        openapi_version=OPENAPI_VERSION,
        plugins=[FlaskPlugin(), MarshmallowPlugin(), KitAnswersPlugin()],
    )
    _add_standard_components(spec)
    for name, schema in kit.openapi_schemas.items():
        spec.components.schema(name, schema=schema)
    for rule, view in _documented_views(app):
        spec.path(view=view, app=app, parameters=_path_parameters(rule))
    return spec.to_dict()


def _add_standard_components(spec: APISpec) -> None:
    spec.components.security_scheme(
        BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("ErrorResponse", schema=ErrorResponseSchema)
    for name, description in STANDARD_RESPONSES.items():
        spec.components.response(
            name,
            {
                "description": description,
                "content": {"application/json": {"schema": "ErrorResponse"}},
            },
        )


def _is_documented(view: Any) -> bool:
    view_class = getattr(view, "view_class", None)
    methods = [getattr(view_class, method, None) for method in HTTP_METHODS] if view_class else []
    docstrings = [view.__doc__] + [method.__doc__ for method in methods if method is not None]
    return any("---" in (docstring or "") for docstring in docstrings)


def _documented_views(app: Flask) -> list[tuple[Rule, Any]]:
    documented = []
    for endpoint, view in app.view_functions.items():
        if _is_documented(view):
            # apispec's Flask plugin documents an endpoint's first rule; so do we.
            rule = next(iter(app.url_map.iter_rules(endpoint)))
            documented.append((rule, view))
    return documented


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    return [
        {
            "in": "path",
            "name": match["name"],
            "required": True,
            "schema": CONVERTER_TYPES.get(match["converter"] or "", {"type": "string"}),
        }
        for match in RULE_ARGUMENT.finditer(rule.rule)
    ]
