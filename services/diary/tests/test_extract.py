"""The paper extract: an A4 PDF in Russian for the guardian or the class teacher (R-DRY-6)."""

from __future__ import annotations

import zlib
from datetime import timedelta

import pytest

from diary.testing import SchoolEvents
from schoolkit.auth import CLASS_TEACHER, DIRECTOR, GUARDIAN

from .conftest import MONDAY, Apply, Caller
from .scene import Scene, class_5a_this_week

A4_MEDIA_BOX = b"/MediaBox [0 0 595.28 841.89]"


@pytest.fixture
def scene(school: SchoolEvents, apply: Apply) -> Scene:
    return class_5a_this_week(school, apply)


def extract(caller: Caller, scene: Scene, user_id: str, role: str, query: str = "") -> object:
    query = query or f"from={MONDAY}&to={MONDAY + timedelta(days=6)}"
    return caller.get(f"/students/{scene.family.student_id}/extract.pdf?{query}", user_id, role)


def page_text(pdf: bytes) -> bytes:
    """The page content streams, inflated: enough to see which glyphs were drawn."""
    text = b""
    for chunk in pdf.split(b"stream\n")[1:]:
        try:
            text += zlib.decompress(chunk.split(b"\nendstream")[0])
        except zlib.error:
            continue
    return text


def test_a_guardian_downloads_an_a4_extract_with_cyrillic_glyphs_embedded(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    apply(school.mark(scene.family.student_id, scene.maths, 5))
    answer = extract(caller, scene, scene.family.guardian_id, GUARDIAN)
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    pdf = answer.data
    assert pdf.startswith(b"%PDF-")
    assert A4_MEDIA_BOX in pdf
    assert b"DejaVu" in pdf  # the embedded font that has Cyrillic glyphs
    assert b"Tj" in page_text(pdf) or b"TJ" in page_text(pdf)


def test_the_class_teacher_may_print_the_extract_too(caller: Caller, scene: Scene) -> None:
    assert extract(caller, scene, scene.class_teacher_id, CLASS_TEACHER).status_code == 200


def test_the_director_asks_the_class_teacher_rather_than_printing_it(
    caller: Caller, scene: Scene
) -> None:
    assert extract(caller, scene, "someone", DIRECTOR).status_code == 403


def test_an_extract_needs_both_ends_of_its_range(caller: Caller, scene: Scene) -> None:
    answer = extract(caller, scene, scene.family.guardian_id, GUARDIAN, f"from={MONDAY}")
    assert answer.status_code == 422
