"""`make secrets`: the deployment's keys, written into .env for docker compose.

Each key the services read (schoolkit.keys) that .env lacks gets a fresh random value;
a key already there is never changed, since the archive's backups and identity's signing
keys stay sealed under the value they were sealed with. Prints the names it wrote, never
a value. The file is readable by its owner only.

    .venv/bin/python scripts/secrets.py [--file PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "libs" / "schoolkit"))

from schoolkit.keys import new_key  # noqa: E402

# What each key protects, written beside it so that whoever opens .env knows what not to lose.
KEYS = {
    "IDENTITY_KEY_ENCRYPTION_KEY": "seals identity's token-signing keys and the console's cookies",
    "ARCHIVE_MASTER_KEY": "wraps every backup's keys: without it no backup can be read",
    "WEB_CLIENT_SECRET": "the web app's OAuth client secret at identity (a new one: sign in again)",
}


def names_in(text: str) -> set[str]:
    """The variables an env file sets (comments and blank lines skipped)."""
    names = set()
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and "=" in stripped:
            names.add(stripped.split("=", 1)[0].removeprefix("export ").strip())
    return names


def add_missing_keys(path: Path) -> list[str]:
    """Append a fresh value for each key `path` lacks; the names appended."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    missing = [name for name in KEYS if name not in names_in(existing)]
    if not missing:
        return []
    lines = [f"# {KEYS[name]}\n{name}={new_key()}\n" for name in missing]
    separator = "" if not existing or existing.endswith("\n") else "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as env_file:
        env_file.write(separator + "".join(lines))
    path.chmod(0o600)
    return missing


def say(message: str) -> None:
    sys.stdout.write(message + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=ROOT / ".env")
    arguments = parser.parse_args()
    written = add_missing_keys(arguments.file)
    if written:
        say(f"{arguments.file}: added {', '.join(written)}; keep this file as safe as the data")
    else:
        say(f"{arguments.file}: every key is there already; nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
