"""The resource-utilization rate: the one definition every endpoint, export and chart uses.

    rate = recovered / handled

    recovered = recyclable collections sent to recycling
              + kitchen collections sent to composting or anaerobic digestion
              + incineration collections (any category), only if the district's setting
                `incineration_counts_as_recovery` is on (off by default)
              + kiosk deposits of recyclable materials
    handled   = every collection of household waste (all categories and destinations)
              + every kiosk deposit

Weights are grams. Reversing collections carry negative weights, so corrections net out in the sums.
A period with nothing handled has no rate (None), never 0 % or 100 %.

on_track projects the period's end from the trend so far (see `project`). This rate is the indicator
`plan_utilization` of indicators.py, where every indicator and its targets (data, per city and year)
are defined; the routes below are its recovery terms.
"""

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import NamedTuple

from backend.categories import WasteCategory

from .models import Destination

# (category, destination) pairs that always count as put back to use.
RECOVERY_ROUTES = {
    (WasteCategory.RECYCLABLE.value, Destination.RECYCLING.value),
    (WasteCategory.KITCHEN.value, Destination.COMPOSTING.value),
    (WasteCategory.KITCHEN.value, Destination.ANAEROBIC_DIGESTION.value),
}
RECOVERED_DEPOSIT_CATEGORIES = {WasteCategory.RECYCLABLE.value}

_CODE = re.compile(r"[a-z_]+")

# Fewer days than this make a fitted slope mostly noise: the rate so far is the projection then.
MIN_DAYS_FOR_TREND = 7


class Utilization(NamedTuple):
    """A numerator and denominator in grams (a tuple: a city's year makes tens of thousands of them)."""

    recovered_g: int
    handled_g: int

    @property
    def rate(self) -> float | None:
        if self.handled_g <= 0:
            return None
        return self.recovered_g / self.handled_g

    def __add__(self, other: "Utilization") -> "Utilization":  # type: ignore[override]
        return Utilization(self.recovered_g + other.recovered_g, self.handled_g + other.handled_g)


ZERO = Utilization(0, 0)


def is_recovery(category: str, destination: str, *, incineration_counts: bool) -> bool:
    if (category, destination) in RECOVERY_ROUTES:
        return True
    return incineration_counts and destination == Destination.INCINERATION.value


def utilization(
    *,
    collected_g: Mapping[tuple[str, str], int],
    deposited_g: Mapping[str, int],
    incineration_counts: bool = False,
) -> Utilization:
    """`collected_g` by (category, destination); `deposited_g` by material category."""
    recovered = sum(
        weight
        for (category, destination), weight in collected_g.items()
        if is_recovery(category, destination, incineration_counts=incineration_counts)
    )
    recovered += sum(w for cat, w in deposited_g.items() if cat in RECOVERED_DEPOSIT_CATEGORIES)
    handled = sum(collected_g.values()) + sum(deposited_g.values())
    return Utilization(int(recovered), int(handled))


@dataclass(frozen=True)
class Projection:
    rate_so_far: float | None
    projected_rate: float | None
    on_track: bool | None
    method: str


def project(
    daily: Iterable[tuple[date, Utilization]], *, start: date, end: date, today: date, target: float | None
) -> Projection:
    """Project the period's rate at `end` from the days so far (start..min(end, today)).

    The cumulative rate after each day with data is fitted with a least-squares line over the day
    index and the line is read at the period's last day (clamped to 0..1). A period that is over is
    judged on its final rate; with fewer than MIN_DAYS_FOR_TREND days of data the rate so far is the
    projection. on_track is projected >= target; None when nothing was handled yet or no target is set.
    """
    ordered = sorted(daily, key=lambda item: item[0])
    return project_columns(
        [day.toordinal() for day, _flow in ordered],
        [flow.recovered_g for _day, flow in ordered],
        [flow.handled_g for _day, flow in ordered],
        start=start,
        end=end,
        today=today,
        target=target,
    )


def project_columns(
    day_numbers: Sequence[int],
    recovered: Sequence[int],
    handled: Sequence[int],
    *,
    start: date,
    end: date,
    today: date,
    target: float | None,
) -> Projection:
    """`project` over columns: the days as ordinals (`date.toordinal`), ascending, and each day's
    numerator and denominator. The same arithmetic in the same order, so the same figures to the last bit; it runs
    per indicator and place of every answer, so it makes no object per day."""
    last = min(end, today)
    origin = start.toordinal()
    lo, hi = bisect_left(day_numbers, origin), bisect_right(day_numbers, last.toordinal())
    cumulative_recovered = list(accumulate(recovered[lo:hi]))
    cumulative_handled = list(accumulate(handled[lo:hi]))
    so_far = Utilization(
        cumulative_recovered[-1] if cumulative_recovered else 0,
        cumulative_handled[-1] if cumulative_handled else 0,
    ).rate
    if so_far is None:
        return Projection(None, None, None, "no_data")
    if today >= end:
        return Projection(so_far, so_far, _reaches(so_far, target), "final")
    xs = [number - origin for number, h in zip(day_numbers[lo:hi], cumulative_handled, strict=True) if h > 0]
    if len(xs) < MIN_DAYS_FOR_TREND:
        return Projection(so_far, so_far, _reaches(so_far, target), "rate_so_far")
    ys = [r / h for r, h in zip(cumulative_recovered, cumulative_handled, strict=True) if h > 0]
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    var_x = sum([(x - mean_x) ** 2 for x in xs])
    slope = sum([(x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)]) / var_x if var_x else 0.0
    projected = mean_y + slope * ((end - start).days - mean_x)
    projected = min(1.0, max(0.0, projected))
    return Projection(so_far, projected, _reaches(projected, target), "linear_trend")


def _reaches(value: float, target: float | None) -> bool | None:
    return None if target is None else value >= target


# ---- the same definition in SQL, for reads over the rollup tables ------------------------------


def _literal(value: str) -> str:
    """A category or destination code as an SQL literal; codes are plain words, checked so."""
    if not _CODE.fullmatch(value):
        raise ValueError(f"{value!r} is not a category or destination code")
    return f"'{value}'"


def _pairs_sql(pairs) -> str:
    return ", ".join(
        f"({_literal(category)}, {_literal(destination)})" for category, destination in sorted(pairs)
    )


def collection_recovered_sql(
    *, weight: str, category: str, destination: str, incineration_counts: str
) -> str:
    """SQL for the recovered part of a collection row; mirrors `is_recovery` (tests check both)."""
    return (
        f"CASE WHEN ({category}, {destination}) IN ({_pairs_sql(RECOVERY_ROUTES)}) THEN {weight} "
        f"WHEN {destination} = {_literal(Destination.INCINERATION.value)} AND {incineration_counts} THEN {weight} "
        "ELSE 0 END"
    )


def deposit_recovered_sql(*, weight: str, category: str) -> str:
    categories = ", ".join(_literal(c) for c in sorted(RECOVERED_DEPOSIT_CATEGORIES))
    return f"CASE WHEN {category} IN ({categories}) THEN {weight} ELSE 0 END"


def district_day_recovered_sql(*, alias: str, incineration_counts: str) -> str:
    """Recovered weight of a DistrictDay row, whose columns were split by the two functions above."""
    return (
        f"{alias}.collected_recovered_g + {alias}.deposit_recovered_g"
        f" + CASE WHEN {incineration_counts} THEN {alias}.incinerated_g ELSE 0 END"
    )
