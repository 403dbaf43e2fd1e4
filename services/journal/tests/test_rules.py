"""The year's rules checked without a database (R-JRN-1, R-JRN-2, R-JRN-8)."""

from datetime import date

import pytest

from journal.rules import (
    BUILT_IN_SCALES,
    GradingScale,
    Period,
    check_mark_on_scale,
    check_period_fits,
)
from schoolkit.errors import ApiError

FIRST_TERM = Period("1 четверть", date(2026, 9, 1), date(2026, 10, 25))


def test_a_second_term_starting_after_the_first_is_accepted() -> None:
    check_period_fits(Period("2 четверть", date(2026, 11, 5), date(2026, 12, 28)), [FIRST_TERM])


def test_a_period_overlapping_another_is_refused_naming_the_rule() -> None:
    with pytest.raises(ApiError) as refused:
        check_period_fits(
            Period("2 четверть", date(2026, 10, 20), date(2026, 12, 28)), [FIRST_TERM]
        )
    assert refused.value.code == "period_overlap"
    assert refused.value.status == 409


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ApiError) as refused:
        check_period_fits(Period("x", date(2026, 12, 1), date(2026, 11, 1)), [])
    assert refused.value.code == "period_bounds_inverted"


def test_a_six_on_the_five_point_scale_is_out_of_scale() -> None:
    check_mark_on_scale("5", BUILT_IN_SCALES["five_point"])
    with pytest.raises(ApiError) as refused:
        check_mark_on_scale("6", BUILT_IN_SCALES["five_point"])
    assert refused.value.code == "mark_out_of_scale"


def test_a_school_configured_scale_is_checked_like_a_built_in_one() -> None:
    letters = GradingScale("letters", ("A", "B", "C", "D", "F"))
    check_mark_on_scale("B", letters)
    with pytest.raises(ApiError):
        check_mark_on_scale("E", letters)
