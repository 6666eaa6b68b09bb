"""Indicator sums read as columns (flows.daily_columns) and projected over them (rate.project_columns):
the same figures as the per-day pairs they replace, to the last bit."""

import random
from datetime import date, timedelta

import pytest

from stats import flows, indicators, rate
from stats.models import DistrictStatsSettings

from . import factories as f

TARGET = 0.35


def _reference_projection(daily, *, start, end, today, target):
    """The projection as it was computed before it read columns: one pass of (day, ratio) pairs."""
    last = min(end, today)
    points = []
    recovered = handled = 0
    for day, flow in sorted(daily, key=lambda item: item[0]):
        if day < start or day > last:
            continue
        recovered += flow.recovered_g
        handled += flow.handled_g
        if handled > 0:
            points.append(((day - start).days, recovered / handled))
    so_far = rate.Utilization(recovered, handled).rate
    if so_far is None:
        return rate.Projection(None, None, None, "no_data")
    reaches = None if target is None else so_far >= target
    if today >= end:
        return rate.Projection(so_far, so_far, reaches, "final")
    if len(points) < rate.MIN_DAYS_FOR_TREND:
        return rate.Projection(so_far, so_far, reaches, "rate_so_far")
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var_x = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var_x if var_x else 0.0
    projected = min(1.0, max(0.0, mean_y + slope * ((end - start).days - mean_x)))
    return rate.Projection(so_far, projected, None if target is None else projected >= target, "linear_trend")


@pytest.mark.parametrize("seed", range(40))
def test_projecting_columns_gives_the_pairs_projection_to_the_last_bit(seed):
    chance = random.Random(seed)
    start = date(2026, 1, 1) + timedelta(days=chance.randrange(60))
    end = start + timedelta(days=chance.randrange(1, 300))
    today = start + timedelta(days=chance.randrange(-5, 320))
    # Days before, inside and after the period; some handle nothing, some are reversals (negative).
    days = sorted(chance.sample(range(-10, 330), chance.randrange(0, 200)))
    pairs = [
        (
            start + timedelta(days=d),
            rate.Utilization(chance.randrange(-500, 4000), chance.choice([0, -800, *range(1, 9000, 7)])),
        )
        for d in days
    ]
    target = chance.choice([None, TARGET, 0.6])

    columns = rate.project_columns(
        [day.toordinal() for day, _r in pairs],
        [r.recovered_g for _d, r in pairs],
        [r.handled_g for _d, r in pairs],
        start=start,
        end=end,
        today=today,
        target=target,
    )
    shuffled = pairs[:]
    chance.shuffle(shuffled)

    expected = _reference_projection(pairs, start=start, end=end, today=today, target=target)
    assert columns == expected
    assert rate.project(shuffled, start=start, end=end, today=today, target=target) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("incineration_counts", [False, True])
def test_the_rollup_columns_apply_the_district_setting_like_the_python_definition(
    district_officer, weidu, incineration_counts
):
    DistrictStatsSettings.objects.create(district=weidu, incineration_counts_as_recovery=incineration_counts)
    first, second = date(2026, 3, 3), date(2026, 3, 9)
    tickets = {
        first: [
            ("other", 400, "incineration"),
            ("recyclable", 300, "recycling"),
            ("kitchen", 50, "landfill"),
        ],
        second: [("kitchen", 200, "composting"), ("other", 100, "incineration")],
    }
    for day, lines in tickets.items():
        for category, kg, destination in lines:
            f.record(district_officer, weidu, category, kg, destination, day)

    sums = flows.daily_columns([weidu.id], date(2026, 3, 1), date(2026, 3, 31))[weidu.id]

    assert sums.days == (first, second)
    assert sums.day_numbers == (first.toordinal(), second.toordinal())
    setting = {indicators.INCINERATION_SETTING: incineration_counts}
    for code, indicator in indicators.INDICATORS.items():
        expected = [
            indicator.ratio([(indicators.COLLECTION, c, d, kg * 1000) for c, kg, d in tickets[day]], setting)
            for day in (first, second)
        ]
        recovered, handled = sums.sums[code]
        assert [rate.Utilization(r, h) for r, h in zip(recovered, handled, strict=True)] == expected, code
    # Days without a flow are simply absent; a district without any has no entry.
    assert flows.daily_columns([weidu.id], date(2026, 4, 1), date(2026, 4, 30)) == {}
