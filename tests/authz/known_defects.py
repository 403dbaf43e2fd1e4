"""Cells of the matrix that fail on main today, grouped by defect with its reference.

They run as strict xfails: when a fix merges, its cells pass, pytest reports them as
XPASS(strict) failures, and their entry is deleted here. AUTHZ_IGNORE_KNOWN_DEFECTS=1
runs every cell as a plain test, to see the matrix as the product answers it today.
"""

from __future__ import annotations

KNOWN_DEFECTS: dict[str, list[str]] = {
    (
        "journal README: GET /lessons/{id}/changes is the director's and deputy's (R-ROLE-2); "
        "class and subject teachers are let in"
    ): [
        "journal GET /v1/lessons/{lesson_id}/changes as class_teacher [foreign]",
        "journal GET /v1/lessons/{lesson_id}/changes as class_teacher [nonexistent]",
        "journal GET /v1/lessons/{lesson_id}/changes as class_teacher [other_school]",
        "journal GET /v1/lessons/{lesson_id}/changes as class_teacher [own]",
        "journal GET /v1/lessons/{lesson_id}/changes as subject_teacher [foreign]",
        "journal GET /v1/lessons/{lesson_id}/changes as subject_teacher [nonexistent]",
        "journal GET /v1/lessons/{lesson_id}/changes as subject_teacher [other_school]",
        "journal GET /v1/lessons/{lesson_id}/changes as subject_teacher [own]",
    ],
}
