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


def kiosk(community):
    from kiosks.models import Kiosk

    return Kiosk.objects.create(community=community, name=f"{community.name} 回收箱")


def deposit(kiosk_row, resident, material_code: str, weight_g: int, occurred_at):
    """A deposit row as the kiosks area stores it (statistics only ever reads these)."""
    import uuid

    from kiosks.models import Deposit
    from rewards.models import Material

    return Deposit.objects.create(
        kiosk=kiosk_row,
        deposit_id=uuid.uuid4(),
        resident=resident,
        household=resident.household,
        community=kiosk_row.community,
        material=Material.objects.get(code=material_code),
        weight_g=weight_g,
        occurred_at=occurred_at,
        fingerprint="0" * 64,
        response={},
    )
