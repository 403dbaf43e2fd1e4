"""Each service publishes its OpenAPI document at /api/<service>/openapi.json."""

from __future__ import annotations

from flask import Flask


def openapi_of(app: Flask) -> dict:
    answer = app.test_client().get("/api/demo/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def test_the_document_names_the_service_and_the_openapi_version(app: Flask) -> None:
    document = openapi_of(app)
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "Demo"


def test_a_documented_view_is_listed_with_its_schemas(app: Flask) -> None:
    operation = openapi_of(app)["paths"]["/api/demo/v1/items"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/Item"}
    assert operation["responses"]["422"] == {"$ref": "#/components/responses/ValidationFailed"}


def test_the_error_schema_has_code_message_and_fields(app: Flask) -> None:
    components = openapi_of(app)["components"]
    error = components["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "fields"}
    assert set(error["required"]) == {"code", "message"}
    assert components["schemas"]["Item"]["required"] == ["quantity", "title"]


def test_bearer_jwt_is_the_security_scheme(app: Flask) -> None:
    schemes = openapi_of(app)["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_undocumented_views_and_kit_probes_are_left_out(app: Flask) -> None:
    paths = set(openapi_of(app)["paths"])
    assert paths == {"/api/demo/v1/items"}


def test_a_guarded_documented_view_gets_the_bearer_requirement_and_its_path_parameter() -> None:
    from flask import Blueprint

    from schoolkit.auth import GUARDIAN, require_roles
    from schoolkit.settings import Settings
    from schoolkit.web import create_service_app

    blueprint = Blueprint("marks", __name__, url_prefix="/v1")

    @blueprint.get("/students/<uuid:student_id>/marks")
    @require_roles(GUARDIAN)
    def student_marks(student_id: str) -> dict:
        """A student's marks.
        ---
        get:
          responses:
            200:
              description: The marks.
        """
        return {}

    settings = Settings(service="diary", database_url="sqlite://")
    app = create_service_app(settings, blueprints=[blueprint], title="Diary")
    document = app.test_client().get("/api/diary/openapi.json").get_json()
    path = document["paths"]["/api/diary/v1/students/{student_id}/marks"]
    assert path["parameters"] == [
        {
            "in": "path",
            "name": "student_id",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
    ]
    operation = path["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert operation["responses"]["401"] == {"$ref": "#/components/responses/Unauthorized"}
    assert operation["responses"]["403"] == {"$ref": "#/components/responses/Forbidden"}
    assert operation["responses"]["503"] == {"$ref": "#/components/responses/DatabaseBusy"}
