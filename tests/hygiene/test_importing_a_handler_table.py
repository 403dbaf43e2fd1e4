"""Importing a service's handler table does nothing but define it (issue 21, item 2).

Tools, tests and the contracts' wiring check import `<service>.handlers`; the worker
alone builds what a table needs (a key store from the master key, delivery settings).
So an import with an empty environment must print nothing, log nothing, connect to
nothing and read no secret; building the table, on first use, may.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from schoolkit.testing import SERVICES

# Runs in a fresh interpreter: every socket and database connection of the import (an
# audit hook) and every read of the environment by the product's code, then printed.
PROBE = textwrap.dedent(
    """
    import importlib, os, sys
    seen = []
    def hook(event, args):
        if event in ("socket.connect", "sqlite3.connect"):
            seen.append(event)
    sys.addaudithook(hook)
    OURS = {"schoolkit", "identity", "journal", "diary", "consent", "notify", "archive", "web"}
    def note(key):
        # Libraries read their own variables (locale, psycopg): only the product's count.
        caller = sys._getframe(2).f_globals.get("__name__", "")
        if caller.split(".")[0] in OURS:
            seen.append(caller + " reads " + key)
    class Watched(dict):
        def __getitem__(self, key):
            note(key)
            return super().__getitem__(key)
        def get(self, key, default=None):
            note(key)
            return super().get(key, default)
    os.environ = Watched(os.environ)
    module = importlib.import_module(sys.argv[1])
    assert module.HANDLERS is not None
    print("SEEN", sorted(set(seen)))
    """
)
MODULES = [f"{service}.handlers" for service in SERVICES] + ["web.handlers"]


@pytest.mark.parametrize("module", MODULES)
def test_importing_a_handler_table_reads_no_setting_logs_nothing_and_connects_nowhere(
    module: str,
) -> None:
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")}
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == "", f"importing {module} wrote: {finished.stderr}"
    assert finished.stdout.strip() == "SEEN []", f"importing {module}: {finished.stdout}"
