"""Keys from the environment: a deployed image never falls back to the development key."""

from __future__ import annotations

import base64
import hashlib
import logging

import pytest

from schoolkit.keys import MissingKey, decode_key, key_from_env, new_key

PHRASE = b"a development phrase that is in the source"


def test_a_configured_key_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    key = new_key()
    monkeypatch.setenv("SOME_KEY", key)
    monkeypatch.setenv("SCHOOL_DEPLOYMENT", "production")
    assert key_from_env("SOME_KEY", PHRASE) == base64.b64decode(key)


def test_a_local_run_without_the_key_uses_the_development_key_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SOME_KEY", raising=False)
    monkeypatch.delenv("SCHOOL_DEPLOYMENT", raising=False)
    with caplog.at_level(logging.WARNING, logger="schoolkit.keys"):
        assert key_from_env("SOME_KEY", PHRASE) == hashlib.sha256(PHRASE).digest()
    assert "SOME_KEY is not set" in caplog.text


@pytest.mark.parametrize("value", ["production", "Production", " production "])
def test_a_deployed_service_without_the_key_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SOME_KEY", "  ")
    monkeypatch.setenv("SCHOOL_DEPLOYMENT", value)
    with pytest.raises(MissingKey, match=r"SOME_KEY is not set.*make secrets"):
        key_from_env("SOME_KEY", PHRASE)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (base64.b64encode(b"x" * 16).decode(), "must be 32 bytes"),
        ("not base64 at all!", "not valid base64"),
    ],
)
def test_a_malformed_key_is_refused_without_quoting_it(value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as refused:
        decode_key("SOME_KEY", value)
    assert "SOME_KEY" in str(refused.value)
    assert value not in str(refused.value)


def test_new_keys_are_32_random_bytes() -> None:
    first, second = new_key(), new_key()
    assert len(decode_key("K", first)) == 32
    assert first != second
