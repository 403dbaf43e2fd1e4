"""Every error a client can meet is the same JSON shape (DESIGN §9)."""

from __future__ import annotations

import json

import pytest
from flask import Flask


def error_of(answer) -> dict:
    body = answer.get_json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]


def test_an_unknown_path_is_a_json_404(app: Flask) -> None:
    answer = app.test_client().get("/api/demo/v1/no-such-thing")
    assert answer.status_code == 404
    assert answer.content_type == "application/json"
    assert error_of(answer)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405_that_names_the_allowed_ones(app: Flask) -> None:
    answer = app.test_client().delete("/api/demo/v1/items")
    assert answer.status_code == 405
    assert error_of(answer)["code"] == "method_not_allowed"
    assert "POST" in answer.headers["Allow"]


def test_a_body_that_is_not_json_is_a_400_invalid_json(app: Flask) -> None:
    answer = app.test_client().post(
        "/api/demo/v1/items", data='{"title": "Ruler",', content_type="application/json"
    )
    assert answer.status_code == 400
    assert error_of(answer)["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
        ('{"title": "\\ud800 Линейка"}', "not valid Unicode"),
        ('{"title": "Ruler", "tags": [{"\\udfff": 1}]}', "not valid Unicode"),
        ('{"title": "Ruler\\u0000"}', "NUL character"),  # PostgreSQL's text refuses it
    ],
)
def test_a_body_no_handler_could_store_is_a_400_before_any_handler_runs(
    app: Flask, body: str, said: str
) -> None:
    answer = app.test_client().post(
        "/api/demo/v1/items", data=body, content_type="application/json"
    )
    assert answer.status_code == 400
    error = error_of(answer)
    assert error["code"] == "invalid_json"
    assert said in error["message"]


@pytest.mark.parametrize(
    "address", ["/api/demo/v1/items?title=%00", "/api/demo/v1/items?%00=1", "/api/demo/v1/it%00ems"]
)
def test_a_nul_in_the_address_is_a_400_before_any_handler_reads_it(
    app: Flask, address: str
) -> None:
    answer = app.test_client().get(address)

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "invalid_characters"


def test_a_body_sent_as_form_data_is_a_415(app: Flask) -> None:
    answer = app.test_client().post("/api/demo/v1/items", data={"title": "Ruler"})
    assert answer.status_code == 415
    assert error_of(answer)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("body", [[1, 2], "Ruler", 42, None])
def test_a_json_body_that_is_not_an_object_is_a_422(app: Flask, body: object) -> None:
    answer = app.test_client().post(
        "/api/demo/v1/items", data=json.dumps(body), content_type="application/json"
    )
    assert answer.status_code == 422
    assert error_of(answer)["code"] == "invalid_body"


def test_invalid_fields_are_a_422_naming_each_field_and_its_problem(app: Flask) -> None:
    answer = app.test_client().post(
        "/api/demo/v1/items", json={"quantity": "many", "colour": "red"}
    )
    assert answer.status_code == 422
    error = error_of(answer)
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"title", "quantity", "colour"}
    assert "required" in error["fields"]["title"].lower()
    assert "integer" in error["fields"]["quantity"].lower()
    assert "unknown" in error["fields"]["colour"].lower()


def test_a_valid_body_reaches_the_view(app: Flask) -> None:
    answer = app.test_client().post("/api/demo/v1/items", json={"title": "Ruler", "quantity": 3})
    assert answer.status_code == 201
    assert answer.get_json() == {"title": "Ruler", "quantity": 3}


def test_a_crash_is_a_500_that_tells_the_client_nothing_of_its_cause(app: Flask) -> None:
    answer = app.test_client().post("/api/demo/v1/boom", json={"title": "Ruler"})
    assert answer.status_code == 500
    error = error_of(answer)
    assert error["code"] == "internal_error"
    assert "hunter2" not in answer.get_data(as_text=True)
    assert "RuntimeError" not in answer.get_data(as_text=True)


def test_a_crash_is_logged_with_its_traceback_but_without_the_request_body(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    app.test_client().post("/api/demo/v1/boom", json={"title": "ivan.petrov@example.org"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    crash = next(line for line in lines if line["message"] == "unhandled error")
    assert crash["level"] == "ERROR"
    assert "RuntimeError" in crash["exc_info"]
    assert crash["route"] == "/api/demo/v1/boom"
    assert all("ivan.petrov" not in json.dumps(line) for line in lines)
