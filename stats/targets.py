"""Which target each indicator is judged by, for a city and the year a period ends in.

A city's own targets (IndicatorTarget rows) replace the national figure of the same year; among the
years that have a target, the first one at or after the period's year is the goal in force, and past
the last target year the last one still applies (see indicators.target_in_force).
"""

from collections import defaultdict
from dataclasses import dataclass

from . import indicators
from .models import IndicatorTarget

CITY = "city"
NATIONAL = "national"


@dataclass(frozen=True)
class Target:
    value: float
    year: int  # the target year it was set for
    source: str  # CITY or NATIONAL


def in_force(city_ids, year: int) -> dict[int | None, dict[str, Target | None]]:
    """city -> indicator code -> the target in force (None when neither the city nor the nation set one).

    A city id of None (no city) is judged by the national figures alone.
    """
    own: dict = defaultdict(lambda: defaultdict(dict))
    wanted = [c for c in set(city_ids) if c is not None]
    for city, code, target_year, value in IndicatorTarget.objects.filter(city_id__in=wanted).values_list(
        "city_id", "indicator", "year", "target"
    ):
        own[city][code][target_year] = value
    result: dict[int | None, dict[str, Target | None]] = {}
    for city in set(city_ids):
        result[city] = {}
        for code, indicator in indicators.INDICATORS.items():
            set_by_city = own[city].get(code, {}) if city is not None else {}
            chosen = indicators.target_in_force({**indicator.national_targets, **set_by_city}, year)
            if chosen is None:
                result[city][code] = None
            else:
                target_year, value = chosen
                source = CITY if target_year in set_by_city else NATIONAL
                result[city][code] = Target(float(value), target_year, source)
    return result


def by_year(city_id: int | None) -> dict[str, list[Target]]:
    """indicator code -> every target year's target for the city, its own replacing the national figure."""
    own: dict = defaultdict(dict)
    if city_id is not None:
        for code, target_year, value in IndicatorTarget.objects.filter(city_id=city_id).values_list(
            "indicator", "year", "target"
        ):
            own[code][target_year] = value
    result = {}
    for code, indicator in indicators.INDICATORS.items():
        merged = {year: Target(float(v), year, NATIONAL) for year, v in indicator.national_targets.items()}
        merged |= {year: Target(float(v), year, CITY) for year, v in own[code].items()}
        result[code] = [merged[year] for year in sorted(merged)]
    return result
