"""The district answers are rendered directly, not field by field: the same representation DRF's
pass over the declared fields (the schema) gives, for rows with figures and rows without."""

import random
from datetime import date

import pytest
from django.core.management import call_command
from rest_framework import serializers

from api.stats import CarbonOut, DistrictStatsOut, carbon_block
from sorting.models import Bin
from stats import selectors
from tests import factories

from .test_monthly import _history
from .test_rollups import _world


@pytest.mark.django_db
def test_district_rows_and_their_carbon_render_as_their_declared_fields(weidu, jian_an, city_officer):
    rng = random.Random(3)
    communities, residents, kiosks = _world(weidu, jian_an)
    # Households that never take part, and wrong sorting: rates that four places round.
    for _ in range(5):
        factories.ResidentFactory(household__community=communities[0])
    bins = list(Bin.objects.all())
    verdicts = ("correct", "correct", "incorrect")
    _history(rng, 40, residents, kiosks, bins, [weidu], city_officer, verdicts=verdicts)
    call_command("refresh_rollups")

    seen_none = seen_figures = seen_carbon = False
    for start, end in [(date(2026, 1, 1), date(2026, 12, 31)), (date(2020, 1, 1), date(2020, 12, 31))]:
        table = selectors.district_table(city_officer, start, end)
        for row in table.rows:
            serializer = DistrictStatsOut(context={"carbon": table.carbon})
            field_by_field = serializers.Serializer.to_representation(serializer, row)
            assert DistrictStatsOut(row, context={"carbon": table.carbon}).data == field_by_field
            seen_none |= field_by_field["utilization_rate"] is None
            # Rates that rounding to four places changes, so a missed rounding shows.
            seen_figures |= bool(field_by_field["deposits_kg_by_material"]) and all(
                field_by_field[name] not in (None, 0.0, 1.0)
                for name in ("participation_rate", "accuracy_rate")
            )
        for figures in [*table.carbon.values(), selectors.NO_CARBON]:
            assert carbon_block(figures) == CarbonOut(figures).data
            seen_carbon |= bool(figures.co2e_g_by_material) and figures.collections_co2e_g > 0
    assert seen_none and seen_figures and seen_carbon
