"""A deployed service never runs on the development keys, and `make secrets` gives it its own.

The development keys derive from phrases in this repository: under them the archive's
backups, identity's signing keys and the console's cookies would be open to anyone who
reads the source. The images set SCHOOL_DEPLOYMENT=production (checked against each
deploy/Dockerfile in test_deployment_matches_service_table.py); here each process that reads a
key is started as its image starts it, without the key and then with one.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from schoolkit.keys import decode_key, new_key

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("IDENTITY_KEY_ENCRYPTION_KEY", "ARCHIVE_MASTER_KEY", "WEB_CLIENT_SECRET")
# What the image's web process and worker import first, each reading its key at start.
STARTS = {
    "identity web": ("identity", "from identity.app import create_app; create_app()"),
    "archive web": ("archive", "from archive.app import create_app; create_app()"),
    "archive worker": ("archive", "from archive.worker import build; build()"),
}
NEEDS = {"identity": "IDENTITY_KEY_ENCRYPTION_KEY", "archive": "ARCHIVE_MASTER_KEY"}


def start(
    code: str, service: str, tmp_path: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in KEYS and not key.endswith("DATABASE_URL")
    }
    environment.update(
        SCHOOL_DEPLOYMENT="production",
        DATABASE_URL=f"sqlite:///{tmp_path / service}.db",
        SCHOOL_VAR_DIR=str(tmp_path / "var"),
        **extra,
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("process", sorted(STARTS))
def test_a_deployed_process_refuses_to_start_without_its_key_and_starts_with_one(
    process: str, tmp_path: Path
) -> None:
    service, code = STARTS[process]
    refused = start(code, service, tmp_path)
    assert refused.returncode != 0
    assert f"MissingKey: {NEEDS[service]} is not set" in refused.stderr

    started = start(code, service, tmp_path, **{NEEDS[service]: new_key()})
    assert started.returncode == 0, started.stderr[-2000:]


def run_secrets(env_file: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "secrets.py"), "--file", str(env_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def values_in(env_file: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if line and not line.startswith("#")
    )


def test_make_secrets_writes_each_key_once_for_the_owner_only(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    said = run_secrets(env_file)
    written = values_in(env_file)
    assert set(written) == set(KEYS)
    for name, value in written.items():
        assert len(decode_key(name, value)) == 32
        assert value not in said  # names only on the terminal
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    run_secrets(env_file)
    assert values_in(env_file) == written  # a key is never changed: backups depend on it


def test_make_secrets_adds_a_missing_key_and_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    kept = new_key()
    env_file.write_text(f"LOG_LEVEL=DEBUG\nARCHIVE_MASTER_KEY={kept}")  # no final newline
    run_secrets(env_file)
    written = values_in(env_file)
    assert written["LOG_LEVEL"] == "DEBUG"
    assert written["ARCHIVE_MASTER_KEY"] == kept
    assert (
        len(decode_key("IDENTITY_KEY_ENCRYPTION_KEY", written["IDENTITY_KEY_ENCRYPTION_KEY"])) == 32
    )
