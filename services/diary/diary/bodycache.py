"""Built diary bodies kept per web process, keyed by what they show and the diary's ETag.

A mobile client polls the same week again and again; the change counters behind the ETag
are read first anyway (diary.changes), so a body built for the same URL, day and counters
is still exact and is served again without its queries. Any change a diary shows raises
one of its counters (the tests of diary.handlers hold that), so a stale body can never
match. Access is decided before the cache is consulted.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

DEFAULT_ENTRIES = 1024  # about 16 kB each: ~16 MB per web process at most


class BodyCache:
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._bodies: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> BodyCache:
        """`DIARY_BODY_CACHE` entries per process; 0 turns the cache off."""
        return cls(int(os.environ.get("DIARY_BODY_CACHE") or DEFAULT_ENTRIES))

    def get(self, key: tuple[str, ...]) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: tuple[str, ...], body: bytes) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self._bodies[key] = body
            self._bodies.move_to_end(key)
            while len(self._bodies) > self.entries:
                self._bodies.popitem(last=False)
