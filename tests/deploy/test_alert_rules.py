"""The alert rules are valid, and each one is unit-tested with promtool (issue 19, item 6).

`promtool check rules` parses deploy/prometheus/alerts.yml as Prometheus would;
`promtool test rules` runs alerts.test.yml, where each alert fires on a series that should
fire it, with the labels and text an operator reads, and stays quiet otherwise. promtool is
Debian's `prometheus` package, which scripts/install.sh installs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def promtool(*arguments: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("promtool")
    if executable is None:
        pytest.fail("promtool is missing: scripts/install.sh installs Debian's prometheus")
    return subprocess.run(
        [executable, *arguments],
        cwd=RULES,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_prometheus_accepts_the_alert_rules() -> None:
    checked = promtool("check", "rules", "alerts.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_fires_and_stays_quiet_when_its_unit_tests_say() -> None:
    tested = promtool("test", "rules", "alerts.test.yml")

    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test_that_makes_it_fire() -> None:
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((RULES / "alerts.test.yml").read_text())["tests"]
    fired = {
        check["alertname"]
        for test in tests
        for check in test.get("alert_rule_test", [])
        if check.get("exp_alerts")
    }

    assert alerts - fired == set(), "alerts without a test that fires them"
