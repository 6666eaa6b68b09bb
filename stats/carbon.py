"""CO2e avoided per district or community and period, from the rollups and the city's emission factors.

Two parts, so no kilogram is credited twice:
- kiosk deposits, by material, times the material's `recycling` factor (as a resident's impact is
  counted: rounded down to the gram per material);
- collections of every category but recyclables, by category and destination, times that category's
  factor for the destination (kitchen waste composted or digested, by default). Recyclables reach
  recycling through the kiosks' pickups and are credited by material at the deposit; a city's
  recyclable tickets would otherwise count the same kilograms again.
A material or route without a factor avoids nothing. Factors are read when asked, so a corrected
factor restates past figures too. Re-exported through stats.selectors (docs/carbon.md).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from backend.categories import WasteCategory
from geo.models import District
from rewards.models import EmissionFactor

from . import monthly

# The levels the other figures are read at.
GROUPINGS = ("district_id", "community_id")
RECYCLING = "recycling"


@dataclass(frozen=True)
class CarbonFigures:
    deposits_co2e_g: int = 0
    collections_co2e_g: int = 0
    co2e_g_by_material: dict[str, int] = field(default_factory=dict)

    @property
    def co2e_g(self) -> int:
        return self.deposits_co2e_g + self.collections_co2e_g


NONE = CarbonFigures()


@dataclass(frozen=True)
class CityFactors:
    by_material: dict[str, int]  # grams CO2e per kg recycled, by material code
    by_route: dict[tuple[str, str], int]  # grams per kg, by (category, destination)


def city_factors(city_ids) -> dict[int, CityFactors]:
    result = {city: CityFactors({}, {}) for city in set(city_ids)}
    for city, material, category, destination, factor in EmissionFactor.objects.filter(
        city_id__in=list(result)
    ).values_list("city_id", "material__code", "category", "destination", "kg_co2e_per_kg"):
        grams = int(factor * 1000)
        if material:
            if destination == RECYCLING:
                result[city].by_material[material] = grams
        else:
            result[city].by_route[(category, destination)] = grams
    return result


def carbon_avoided(
    district_ids: list[int], start: date, end: date, *, by: str = "district_id"
) -> dict[int, CarbonFigures]:
    """district or community -> CO2e avoided over start..end (districts without any are absent)."""
    if by not in GROUPINGS:
        raise ImproperlyConfigured(f"carbon is not grouped by {by!r}")
    if not district_ids:
        return {}
    city_of = dict(District.objects.filter(pk__in=district_ids).values_list("id", "city_id"))
    with connection.cursor() as cursor:
        cursor.execute(*weights_sql(by, "deposits", "material", district_ids, start, end))
        deposit_rows = cursor.fetchall()
        cursor.execute(*weights_sql(by, "collections", "category, destination", district_ids, start, end))
        collection_rows = cursor.fetchall()
    return carbon_of(deposit_rows, collection_rows, city_of)


def weights_sql(by: str, kind: str, keys: str, district_ids, start: date, end: date) -> tuple[str, list]:
    """(key, district, `keys`, grams) of deposits or collections, in `keys` order, and its parameters:
    what carbon_of reads, and the district figures' weights by material and by route. Over the whole
    months' rows where there are any (monthly.py); collections by community over their days (a few a
    day)."""
    width = len(keys.split(","))
    grouped = ", ".join(str(i) for i in range(1, width + 3))
    ordered = ", ".join(str(i) for i in range(3, width + 3))
    ids = list(district_ids)
    if by == "community_id" and kind == "collections":
        return (
            f"""SELECT community_id, district_id, {keys}, sum(weight_g) FROM stats_collectiondaily
                WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s AND community_id IS NOT NULL
                GROUP BY {grouped} ORDER BY {ordered}""",  # noqa: S608 - keys are this module's constants
            [ids, start, end],
        )
    source = "community_deposits" if by == "community_id" else kind
    place = "district_id" if by == "district_id" else f"{by}, district_id"
    rows, params = monthly.period_rows(source, f"{place}, {keys}, weight_g", ids, start, end)
    return (
        f"SELECT {by}, district_id, {keys}, sum(weight_g) FROM ({rows}) x GROUP BY {grouped} ORDER BY {ordered}",  # noqa: S608 - monthly's SQL; `by` checked, keys this module's constants
        params,
    )


def carbon_of(deposit_rows, collection_rows, city_of: dict[int, int]) -> dict[int, CarbonFigures]:
    """CO2e avoided per key from rollup sums already read: deposits as (key, district, material,
    grams), collections as (key, district, category, destination, grams); `city_of` maps each
    district to its city, whose factors apply. Recyclable collections are skipped here, the one place
    that rule is kept."""
    factors = city_factors(city_of.values())
    by_material: dict[int, dict[str, int]] = defaultdict(dict)
    collected: dict[int, int] = defaultdict(int)
    for key, district, material, weight in deposit_rows:
        grams = int(weight) * factors[city_of[district]].by_material.get(material, 0) // 1000
        by_material[key][material] = by_material[key].get(material, 0) + grams
    for key, district, category, destination, weight in collection_rows:
        if category == WasteCategory.RECYCLABLE:
            continue
        per_kg = factors[city_of[district]].by_route.get((category, destination), 0)
        collected[key] += int(weight) * per_kg // 1000
    return {
        key: CarbonFigures(
            sum(by_material.get(key, {}).values()),
            collected.get(key, 0),
            dict(sorted(by_material.get(key, {}).items())),
        )
        for key in set(by_material) | set(collected)
    }


def total(figures) -> CarbonFigures:
    """Several places' CO2e as one (the city's): the parts add up."""
    materials: dict[str, int] = defaultdict(int)
    deposits = collections = 0
    for figure in figures:
        deposits += figure.deposits_co2e_g
        collections += figure.collections_co2e_g
        for material, grams in figure.co2e_g_by_material.items():
            materials[material] += grams
    return CarbonFigures(deposits, collections, dict(sorted(materials.items())))
