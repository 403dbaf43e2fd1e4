"""The retention policy is checked at start: a wrong one stops the service, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent.policy import PolicyError, load_policy


def test_the_shipped_policy_erases_everything_held_on_consent_and_keeps_final_marks_by_law() -> (
    None
):
    policy = load_policy()
    revoked = policy.to_erase("consent_revoked")
    assert {"account", "contacts", "marks", "attendance", "diary", "backups"} <= set(revoked)
    assert "final_marks" not in revoked
    [act, final_marks] = policy.to_retain("consent_revoked")
    assert final_marks.name == "final_marks"
    assert "273-ФЗ" in (final_marks.law or "")
    assert act.name == "erasure_act"


def test_an_ended_diary_agreement_erases_only_the_diary() -> None:
    assert load_policy().to_erase("agreement_terminated") == ["acknowledgements", "diary"]


def policy_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "retention.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (
            '[categories.shoe_size]\nbasis = "consent"\non = { consent_revoked = "erase" }',
            "no erasure participant holds it",
        ),
        (
            '[categories.marks]\nbasis = "consent"\non = { expelled = "erase" }',
            "unknown trigger 'expelled'",
        ),
        (
            '[categories.marks]\nbasis = "consent"\non = { student_left = "shred" }',
            "unknown action 'shred'",
        ),
        ('[categories.marks]\nbasis = "whim"\non = {}', "basis must be one of"),
        (
            '[categories.marks]\nbasis = "consent"\non = { student_left = "retain" }',
            "only a category kept by law",
        ),
        ("", "names no category"),
        ("[categories.marks\n", "Expected"),
    ],
)
def test_a_wrong_policy_is_refused_naming_what_is_wrong(
    tmp_path: Path, body: str, complaint: str
) -> None:
    with pytest.raises(PolicyError, match=complaint):
        load_policy(policy_file(tmp_path, body))


def test_an_unknown_participant_is_refused() -> None:
    with pytest.raises(PolicyError, match="unknown erasure participants: payroll"):
        load_policy(enabled=["journal", "payroll"])
