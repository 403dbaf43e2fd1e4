"""Who may open a diary: one test per rule (R-DRY-3, R-DRY-7, R-ROLE-5, R-ROLE-6).

Anyone without a right to a diary gets the same 404 as for a student who does not exist,
so that nobody can probe which student ids are real.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from diary.testing import SchoolEvents, covered_family, new_id
from schoolkit.auth import (
    CLASS_TEACHER,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    GUARDIAN,
    OPERATIONS,
    STUDENT,
    SUBJECT_TEACHER,
)

from .conftest import MONDAY, Apply, Caller
from .scene import Scene, class_5a_this_week


@pytest.fixture
def scene(school: SchoolEvents, apply: Apply) -> Scene:
    return class_5a_this_week(school, apply)


def week_status(caller: Caller, scene: Scene, user_id: str, *roles: str, **kwargs: str) -> int:
    path = f"/students/{scene.family.student_id}/week"
    return caller.get(path, user_id, *roles, **kwargs).status_code


def test_a_guardian_reads_the_diary_of_their_own_child(caller: Caller, scene: Scene) -> None:
    assert week_status(caller, scene, scene.family.guardian_id, GUARDIAN) == 200


def test_a_guardian_of_another_family_gets_not_found_as_if_the_child_did_not_exist(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    other = covered_family(school, scene.class_id, MONDAY - timedelta(days=30))
    apply(*other.events)
    foreign = caller.get(f"/students/{scene.family.student_id}/week", other.guardian_id, GUARDIAN)
    unknown = caller.get(f"/students/{new_id()}/week", other.guardian_id, GUARDIAN)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.get_json() == unknown.get_json()


def test_a_linked_parent_without_their_own_agreement_cannot_read_the_diary(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    second_parent = new_id()
    apply(school.guardian_linked(second_parent, scene.family.student_id))
    assert week_status(caller, scene, second_parent, GUARDIAN) == 404


def test_a_guardian_unlinked_by_identity_loses_access_at_once(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    apply(school.guardian_unlinked(scene.family.events[0]))
    assert week_status(caller, scene, scene.family.guardian_id, GUARDIAN) == 404


def test_a_student_reads_their_own_diary(caller: Caller, scene: Scene) -> None:
    assert week_status(caller, scene, scene.family.student_id, STUDENT) == 200


def test_a_student_cannot_read_a_classmates_diary(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    classmate = covered_family(school, scene.class_id, MONDAY - timedelta(days=30))
    apply(*classmate.events)
    assert week_status(caller, scene, classmate.student_id, STUDENT) == 404


def test_the_class_teacher_of_the_students_class_reads_the_diary(
    caller: Caller, scene: Scene
) -> None:
    assert week_status(caller, scene, scene.class_teacher_id, CLASS_TEACHER) == 200


def test_the_class_teacher_of_another_class_cannot(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    other_leader = new_id()
    apply(school.school_class(new_id(), "6Б", other_leader))
    assert week_status(caller, scene, other_leader, CLASS_TEACHER) == 404


def test_a_teacher_who_teaches_the_students_class_reads_the_diary(
    caller: Caller, scene: Scene
) -> None:
    assert week_status(caller, scene, scene.maths_teacher_id, SUBJECT_TEACHER) == 200


def test_a_teacher_of_a_group_the_student_is_not_in_cannot(caller: Caller, scene: Scene) -> None:
    assert week_status(caller, scene, scene.history_teacher_id, SUBJECT_TEACHER) == 404


def test_a_teacher_who_does_not_teach_the_class_cannot(caller: Caller, scene: Scene) -> None:
    assert week_status(caller, scene, new_id(), SUBJECT_TEACHER) == 404


@pytest.mark.parametrize("role", [DEPUTY_DIRECTOR, DIRECTOR])
def test_the_school_leadership_reads_any_diary_of_its_school(
    caller: Caller, scene: Scene, role: str
) -> None:
    assert week_status(caller, scene, new_id(), role) == 200


def test_the_director_of_another_school_gets_not_found(caller: Caller, scene: Scene) -> None:
    assert week_status(caller, scene, new_id(), DIRECTOR, school_id="school-other") == 404


def test_operations_staff_may_not_read_diaries(caller: Caller, scene: Scene) -> None:
    assert week_status(caller, scene, new_id(), OPERATIONS) == 403


def test_without_a_token_nothing_is_shown(caller: Caller, scene: Scene) -> None:
    answer = caller.client.get(f"/api/diary/v1/students/{scene.family.student_id}/week")
    assert answer.status_code == 401


def test_a_student_without_any_agreement_has_no_diary_even_for_the_director(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    uncovered = new_id()
    apply(school.enrol(uncovered, scene.class_id, MONDAY))
    answer = caller.get(f"/students/{uncovered}/week", new_id(), DIRECTOR)
    assert answer.status_code == 404
