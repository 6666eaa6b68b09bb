"""The incremental round's prefilter of raw events: a clause per day of its buckets, one window past
MAX_DAY_CLAUSES days; either way the rollups equal a recount."""

from datetime import date

import pytest

from stats import sources
from stats.rollups import incremental

from .test_rollups import test_rollups_equal_a_recount_after_a_random_stream_of_events as random_stream


def test_the_prefilter_has_a_clause_per_day_with_that_days_communities():
    src = sources.deposit_source()
    buckets = {(3, date(2026, 3, 1)), (1, date(2026, 3, 1)), (2, date(2026, 3, 9))}

    where, params = incremental._bucket_events(src, buckets)

    assert where.count(" OR ") == 1
    assert params == [[1, 3], date(2026, 3, 1), date(2026, 3, 2), [2], date(2026, 3, 9), date(2026, 3, 10)]


def test_past_the_clause_limit_the_prefilter_is_one_window(monkeypatch):
    monkeypatch.setattr(incremental, "MAX_DAY_CLAUSES", 1)
    src = sources.drop_source()
    buckets = {(1, date(2026, 3, 1)), (2, date(2026, 3, 9))}

    where, params = incremental._bucket_events(src, buckets)

    assert " OR " not in where
    assert params == [[1, 2], date(2026, 2, 28), date(2026, 3, 11)]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [5, 6])
def test_rounds_that_read_one_window_still_equal_a_recount(seed, monkeypatch, weidu, jian_an, city_officer):
    monkeypatch.setattr(incremental, "MAX_DAY_CLAUSES", 1)
    random_stream(seed, weidu, jian_an, city_officer)
