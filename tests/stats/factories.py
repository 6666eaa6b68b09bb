"""Statistics test data: collections go through the service, so their rollup is written as in production."""

from datetime import date

from backend.geo.models import District
from backend.stats import services
from tests import factories


def record(actor, district: District, category: str, kg: float, destination: str, day: date, community=None):
    return services.record_collection(
        actor=actor,
        values=services.CollectionValues(
            district=district,
            community=community,
            category=category,
            weight_g=round(kg * 1000),
            date=day,
            destination=destination,
        ),
    )


def households(community, n: int) -> list:
    return [factories.HouseholdFactory(community=community) for _ in range(n)]
