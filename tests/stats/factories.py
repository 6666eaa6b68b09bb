"""Statistics test data: collections go through the service, so their rollup is written as in production."""

from datetime import date

from geo.models import District
from stats import services
from tests import factories


def record(
    actor,
    district: District,
    category: str,
    kg: float,
    destination: str,
    day: date,
    community=None,
    *,
    plant=None,
    pickups=(),
    reference: str = "",
):
    return services.record_collection(
        actor=actor,
        values=services.CollectionValues(
            district=district,
            community=community,
            category=category,
            weight_g=round(kg * 1000),
            date=day,
            destination=destination,
            plant=plant,
            pickup_ids=tuple(pickups),
            reference=reference,
        ),
    )


def plant(district: District, destination: str, name: str = ""):
    from stats.models import Plant

    return Plant.objects.create(
        district=district, destination=destination, name=name or f"{district.name} {destination}"
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


def bin_in(community, category: str):
    from sorting.models import Bin

    return Bin.objects.create(community=community, category=category, name=f"{community.name} {category}")


def drop(bin_row, resident, at, *, status: str = "pending", verdict: str = ""):
    """A drop row as the sorting area stores it, made at `at` (created_at is set after the insert)."""
    from django.utils import timezone

    from sorting.models import Drop

    row = Drop.objects.create(
        bin=bin_row, resident=resident, household=resident.household, community=bin_row.community
    )
    graded = timezone.now() if verdict or status != "pending" else None
    Drop.objects.filter(pk=row.pk).update(created_at=at, status=status, verdict=verdict, graded_at=graded)
    row.refresh_from_db()
    return row


def grade(drop_row, verdict: str):
    """What an inspector's verdict does to the row (the sorting service's conditional UPDATE)."""
    from django.utils import timezone

    from sorting.models import Drop

    now = timezone.now()
    Drop.objects.filter(pk=drop_row.pk, status="pending").update(
        status="accepted" if verdict == "correct" else "rejected",
        verdict=verdict,
        graded_at=now,
        updated_at=now,
    )
