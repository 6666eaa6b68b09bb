"""Point rules as data: how many points a deposit or an accepted drop earns, and the daily caps."""

import time

from .models import Material, PointRules


def material_by_code(code: str) -> Material | None:
    return Material.objects.filter(code=code, active=True).first()


def deposit_points(material: Material, weight_g: int) -> int:
    """Whole points, rounded down: splitting a deposit in two can never earn more than depositing it whole."""
    return (weight_g * material.points_per_kg) // 1000


def rules_for_city(city_id: int) -> PointRules:
    rules, _ = PointRules.objects.get_or_create(city_id=city_id)
    return rules


# Rules and materials change a few times a year but are read on every deposit: each process keeps
# them for a short while instead of asking the database every time.
CACHE_SECONDS = 30
_cache: dict[str, tuple[float, object]] = {}


def _cached(key: str, load):
    now = time.monotonic()
    hit = _cache.get(key)
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    _cache[key] = (now, value)
    return value


def cached_materials() -> dict[str, Material]:
    return _cached("materials", lambda: {m.code: m for m in Material.objects.filter(active=True)})


def cached_rules(city_id: int) -> PointRules:
    return _cached(f"rules:{city_id}", lambda: rules_for_city(city_id))


def forget_cached_rules() -> None:
    _cache.clear()
