"""The retention policy (data/retention.toml) and the erasure participants, checked at start.

A policy that names a category no participant holds, a trigger or an action that does
not exist, or a legal retention without its law is refused with a message saying which
line is wrong: a school must never run with a policy that silently erases nothing.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
TRIGGERS = ("consent_revoked", "agreement_terminated", "student_left")
ACTIONS = ("erase", "retain")
BASES = ("consent", "law")


class PolicyError(ValueError):
    """The policy file is wrong; the message says where."""


@dataclass(frozen=True)
class Participant:
    holds: frozenset[str]
    enabled: bool = True


@dataclass(frozen=True)
class Category:
    name: str
    basis: str
    actions: dict[str, str]
    law: str | None = None
    retain_years: int | None = None


@dataclass(frozen=True)
class Policy:
    categories: dict[str, Category]
    participants: dict[str, frozenset[str]]

    def to_erase(self, trigger: str) -> list[str]:
        return sorted(n for n, c in self.categories.items() if c.actions.get(trigger) == "erase")

    def to_retain(self, trigger: str) -> list[Category]:
        return [c for _, c in sorted(self.categories.items()) if c.actions.get(trigger) == "retain"]


def load_policy(
    policy_file: Path | None = None,
    participants_file: Path | None = None,
    enabled: list[str] | None = None,
) -> Policy:
    declared = _declared(participants_file or DATA / "participants.toml")
    participants = _enabled(declared, enabled)
    held = set().union(*(participant.holds for participant in declared.values()))
    raw = _read(
        policy_file or Path(os.environ.get("RETENTION_POLICY_FILE") or DATA / "retention.toml")
    )
    categories = {
        name: _category(name, entry, held) for name, entry in raw.get("categories", {}).items()
    }
    if not categories:
        raise PolicyError("the policy names no category")
    return Policy(categories, participants)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as source:
            return tomllib.load(source)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"{path}: {error}") from error


def _declared(path: Path) -> dict[str, Participant]:
    return {
        name: Participant(frozenset(entry.get("holds", [])), entry.get("enabled", True))
        for name, entry in _read(path).items()
    }


def _enabled(
    declared: dict[str, Participant], enabled: list[str] | None
) -> dict[str, frozenset[str]]:
    wanted = enabled if enabled is not None else _enabled_from_env(declared)
    unknown = sorted(set(wanted) - set(declared))
    if unknown:
        raise PolicyError(f"unknown erasure participants: {', '.join(unknown)}")
    return {name: declared[name].holds for name in wanted}


def _enabled_from_env(declared: dict[str, Participant]) -> list[str]:
    configured = os.environ.get("ERASURE_PARTICIPANTS")
    if not configured:
        return [name for name, participant in declared.items() if participant.enabled]
    return [name.strip() for name in configured.split(",") if name.strip()]


def _category(name: str, entry: dict[str, Any], held: set[str]) -> Category:
    where = f"category {name!r}"
    if name not in held:
        raise PolicyError(f"{where}: no erasure participant holds it")
    basis = entry.get("basis")
    if basis not in BASES:
        raise PolicyError(f"{where}: basis must be one of {', '.join(BASES)}")
    actions = dict(entry.get("on", {}))
    for trigger, action in actions.items():
        if trigger not in TRIGGERS:
            raise PolicyError(f"{where}: unknown trigger {trigger!r}")
        if action not in ACTIONS:
            raise PolicyError(f"{where}: unknown action {action!r} on {trigger}")
    retains = "retain" in actions.values()
    if retains and (basis != "law" or not entry.get("law") or not entry.get("retain_years")):
        raise PolicyError(
            f"{where}: only a category kept by law may be retained, naming the law and retain_years"
        )
    return Category(name, basis, actions, entry.get("law"), entry.get("retain_years"))
