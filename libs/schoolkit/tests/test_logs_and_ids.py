"""Log lines are JSON, carry the ids of the work in hand, and never personal data."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from schoolkit.context import correlation_id_var, event_id_var
from schoolkit.db import Database
from schoolkit.logs import REDACTED, configure_logging, error_text


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_a_log_line_is_json_with_service_level_logger_and_context_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("diary", "INFO")
    correlation = correlation_id_var.set("corr-42")
    event = event_id_var.set("event-7")
    try:
        logging.getLogger("diary.handlers").info("mark copied", extra={"mark_id": "m-1"})
    finally:
        correlation_id_var.reset(correlation)
        event_id_var.reset(event)
    [line] = log_lines(capsys)
    assert line["message"] == "mark copied"
    assert line["level"] == "INFO"
    assert line["logger"] == "diary.handlers"
    assert line["service"] == "diary"
    assert line["correlation_id"] == "corr-42"
    assert line["event_id"] == "event-7"
    assert line["request_id"] is None
    assert line["mark_id"] == "m-1"
    assert line["time"].endswith("+00:00")


def test_personal_data_and_secrets_passed_in_extra_are_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("identity", "INFO")
    logging.getLogger("identity.api").warning(
        "login failed",
        extra={
            "user_id": "u-17",
            "email": "ivan.petrov@example.org",
            "Phone": "+79161234567",
            "password": "hunter2",
            "guardian_email": "olga@example.org",
            "contact": {"first_name": "Иван", "last_name": "Петров", "kind": "guardian"},
            "attempts": [{"access_token": "eyJhbGciOi"}],
        },
    )
    output = capsys.readouterr().out
    line = json.loads(output)
    assert line["user_id"] == "u-17"
    assert line["email"] == REDACTED
    assert line["Phone"] == REDACTED
    assert line["password"] == REDACTED
    assert line["guardian_email"] == REDACTED
    assert line["contact"] == {"first_name": REDACTED, "last_name": REDACTED, "kind": "guardian"}
    assert line["attempts"] == [{"access_token": REDACTED}]
    for secret in ("ivan.petrov", "+7916", "hunter2", "olga@", "Иван", "Петров", "eyJhbGciOi"):
        assert secret not in output


def test_a_sane_request_id_and_correlation_id_are_kept_and_echoed(app: Flask) -> None:
    answer = app.test_client().get(
        "/healthz", headers={"X-Request-ID": "req-abc.1", "X-Correlation-ID": "corr-xyz"}
    )
    assert answer.headers["X-Request-ID"] == "req-abc.1"
    assert answer.headers["X-Correlation-ID"] == "corr-xyz"


def test_without_ids_the_request_gets_one_and_the_correlation_id_defaults_to_it(
    app: Flask,
) -> None:
    answer = app.test_client().get("/healthz")
    request_id = answer.headers["X-Request-ID"]
    assert uuid.UUID(request_id)
    assert answer.headers["X-Correlation-ID"] == request_id


@pytest.mark.parametrize("bad_id", ["has spaces", "x" * 300, "<script>", "new\\nline"])
def test_an_insane_incoming_request_id_is_replaced(app: Flask, bad_id: str) -> None:
    answer = app.test_client().get("/healthz", headers={"X-Request-ID": bad_id})
    assert answer.headers["X-Request-ID"] != bad_id
    assert uuid.UUID(answer.headers["X-Request-ID"])


def test_every_log_line_of_a_request_carries_its_ids_and_one_access_line_closes_it(
    app: Flask,
    identity,
    auth_header: Callable[[str], dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    app.test_client().get(
        "/api/demo/v1/items/12?email=ivan.petrov@example.org",
        headers={
            **auth_header(identity.issue()),
            "X-Request-ID": "req-1",
            "X-Correlation-ID": "c-1",
        },
    )
    lines = log_lines(capsys)
    view_line = next(line for line in lines if line["message"] == "item read")
    access = [line for line in lines if line["logger"] == "schoolkit.access"]
    assert view_line["request_id"] == "req-1"
    assert view_line["correlation_id"] == "c-1"
    assert len(access) == 1
    assert access[0]["request_id"] == "req-1"
    assert access[0]["route"] == "/api/demo/v1/items/<int:item_id>"
    assert access[0]["status"] == 200
    assert access[0]["method"] == "GET"
    assert access[0]["duration_ms"] >= 0
    assert all("ivan.petrov" not in json.dumps(line) for line in lines)


def test_ids_of_one_request_do_not_leak_into_the_next(app: Flask) -> None:
    client = app.test_client()
    client.get("/healthz", headers={"X-Correlation-ID": "first"})
    answer = client.get("/healthz")
    assert answer.headers["X-Correlation-ID"] != "first"
    assert correlation_id_var.get() is None


def test_a_database_error_is_logged_without_the_value_the_database_quoted(
    capsys: pytest.CaptureFixture[str], postgres_database_url: str
) -> None:
    """PostgreSQL's message quotes the value it refused; the log keeps the SQLSTATE and the
    statement (placeholders only), and the traceback, but not that text."""
    configure_logging("journal", "INFO")
    refused = {"value": "Иванова Мария"}  # the traceback quotes source lines: not this one
    database = Database(postgres_database_url)
    try:
        with database.sessions() as session:
            session.execute(text("SELECT CAST(:value AS integer)"), refused)
    except DBAPIError:
        logging.getLogger("journal.api").exception("unhandled error")
    finally:
        database.dispose()
    output = capsys.readouterr().out
    [line] = [json.loads(row) for row in output.splitlines() if row]
    assert "Иванова" not in output and "\\u0418" not in output
    assert "SQLSTATE 22P02" in line["exc_info"]  # invalid_text_representation
    assert "SELECT CAST" in line["exc_info"]
    assert "Traceback (most recent call last)" in line["exc_info"]
    assert "The above exception was the direct cause" in line["exc_info"]


def test_other_errors_keep_their_text() -> None:
    assert error_text(ValueError("period not found")) == "ValueError: period not found"


def test_a_parked_messages_reason_for_a_database_error_names_no_value(
    postgres_database_url: str,
) -> None:
    """The consumer parks with error_text: the unique key the database quoted stays out."""
    database = Database(postgres_database_url)
    duplicate = {"login": "ivan.petrov@example.org"}
    try:
        with database.transaction() as session:
            session.execute(text("CREATE TEMP TABLE logins (login text UNIQUE)"))
            session.execute(text("INSERT INTO logins VALUES (:login)"), duplicate)
            session.execute(text("INSERT INTO logins VALUES (:login)"), duplicate)
    except DBAPIError as error:
        reason = error_text(error)
    finally:
        database.dispose()
    assert "ivan.petrov" not in reason
    assert reason.startswith("IntegrityError: database error SQLSTATE 23505 on logins_login_key")
