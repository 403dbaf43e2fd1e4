"""Cells of the matrix that fail on main today, grouped by defect with its reference.

They run as strict xfails: when a fix merges, its cells pass, pytest reports them as
XPASS(strict) failures, and their entry is deleted here. AUTHZ_IGNORE_KNOWN_DEFECTS=1
runs every cell as a plain test, to see the matrix as the product answers it today.
"""

from __future__ import annotations

KNOWN_DEFECTS: dict[str, list[str]] = {}
