"""The values of one collection record, as every write path (API, weighbridge import) hands them over."""

from dataclasses import dataclass
from datetime import date

from geo.models import Community, District

from .models import Plant


@dataclass(frozen=True)
class CollectionValues:
    district: District
    category: str
    weight_g: int
    date: date
    destination: str
    community: Community | None = None
    reference: str = ""
    note: str = ""
    plant: Plant | None = None
    # ids of the kiosk pickups this ticket received (each feeds one ticket only)
    pickup_ids: tuple[int, ...] = ()
