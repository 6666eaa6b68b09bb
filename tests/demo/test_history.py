"""The demo's year of history: the first dashboard shows every indicator's trend, and the books balance."""

import pytest

from accounts.models import Role
from demo.data import load_demo
from demo.history import load_history
from kiosks.models import Deposit, Pickup
from sorting.models import Drop
from stats import selectors
from stats.models import Collection
from stats.rollups.verification import verify

pytestmark = pytest.mark.django_db


def test_the_demo_history_shows_rising_indicators_and_balances():
    loaded = load_demo()
    counts = (
        Drop.objects.count(),
        Deposit.objects.count(),
        Pickup.objects.count(),
        Collection.objects.count(),
    )
    city_officer = loaded["staff"][Role.CITY_OFFICER]

    start, end = selectors.parse_period(None, None)
    rows = {r.district.slug: r for r in selectors.district_table(city_officer, start, end).rows}
    months = selectors.district_series(city_officer, rows["weidu"].district.id, "month", start, end).points

    assert loaded["history"] is True
    assert all(n > 0 for n in counts)
    for slug in ("weidu", "jian-an", "dongcheng"):
        figures = rows[slug].indicators
        assert all(figures[code].value is not None for code in selectors.INDICATOR_CODES), slug
        assert figures["plan_utilization"].projection.on_track is not None
    rates = [
        p.ratios["plan_utilization"].rate for p in months if p.ratios["plan_utilization"].rate is not None
    ]
    assert len(rates) >= 2 and rates[-1] > rates[0]
    assert verify() == []
    # Loaded once: a second start of the server adds nothing.
    assert load_history(loaded["communities"], city_officer) is False
    assert (
        Drop.objects.count(),
        Deposit.objects.count(),
        Pickup.objects.count(),
        Collection.objects.count(),
    ) == counts
