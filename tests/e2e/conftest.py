"""Fixtures of the cross-service stories: the system running as real processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schoolkit.testing import Bus, require_postgres

from .system import System


@pytest.fixture
def start_system(bus: Bus, tmp_path: Path) -> Iterator[Callable[..., System]]:
    """Starts the named services (and their gateway); stops them after the test."""
    require_postgres()
    started: list[System] = []

    def start(*services: str, **options: object) -> System:
        system = System(bus, tmp_path, list(services), **options)  # type: ignore[arg-type]
        started.append(system)
        return system.start()

    yield start
    for system in started:
        system.close()
