"""The school year's rules that need no database: periods must not overlap (R-JRN-1),
a mark must lie on its grading scale (R-JRN-2, R-JRN-8). A scale is data, not code:
the built-in ones are rows of the same shape a school may configure."""

from dataclasses import dataclass
from datetime import date

from schoolkit.errors import ApiError


@dataclass(frozen=True)
class Period:
    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class GradingScale:
    code: str
    values: tuple[str, ...]


BUILT_IN_SCALES: dict[str, GradingScale] = {
    "five_point": GradingScale("five_point", ("1", "2", "3", "4", "5")),
    "pass_fail": GradingScale("pass_fail", ("pass", "fail")),
    "ten_point": GradingScale("ten_point", tuple(str(n) for n in range(1, 11))),
    "hundred_point": GradingScale("hundred_point", tuple(str(n) for n in range(0, 101))),
}


def check_period_fits(new: Period, existing: list[Period]) -> None:
    """Refuse a period with inverted bounds or one that overlaps another of the same year."""
    if new.ends_on < new.starts_on:
        raise ApiError(422, "period_bounds_inverted", "A period must end on or after its start.")
    for other in existing:
        if new.starts_on <= other.ends_on and other.starts_on <= new.ends_on:
            raise ApiError(
                409,
                "period_overlap",
                f"The period overlaps '{other.name}' ({other.starts_on} to {other.ends_on}).",
            )


def check_mark_on_scale(value: str, scale: GradingScale) -> None:
    if value not in scale.values:
        raise ApiError(
            422,
            "mark_out_of_scale",
            f"The mark is not on the '{scale.code}' scale.",
            fields={"value": f"allowed: {', '.join(scale.values[:11])}"},
        )
