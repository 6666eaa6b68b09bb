"""Point rules as data: how many points a deposit or an accepted drop earns, and the daily caps."""

from .models import Material, PointRules


def material_by_code(code: str) -> Material | None:
    return Material.objects.filter(code=code, active=True).first()


def deposit_points(material: Material, weight_g: int) -> int:
    """Whole points, rounded down: splitting a deposit in two can never earn more than depositing it whole."""
    return (weight_g * material.points_per_kg) // 1000


def rules_for_city(city_id: int) -> PointRules:
    rules, _ = PointRules.objects.get_or_create(city_id=city_id)
    return rules
