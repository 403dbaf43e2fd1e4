"""A service's handler table, built when it is first used rather than when it is imported.

Some tables need what only a running worker should build (the archive's key store from
its master key, notify's delivery settings, consent's erasure policy). Importing a
handlers module, as tools, tests and the contracts' wiring check do, must not read the
environment, log or open anything (issue 21): the table is data, its needs are built
on first use, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from threading import Lock

from schoolkit.consumer import Handler


class HandlerTable(Mapping[str, Handler]):
    def __init__(self, build: Callable[[], Mapping[str, Handler]]) -> None:
        self._build = build
        self._table: dict[str, Handler] | None = None
        self._lock = Lock()

    def _loaded(self) -> dict[str, Handler]:
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = dict(self._build())
        return self._table

    def __getitem__(self, event_type: str) -> Handler:
        return self._loaded()[event_type]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())
