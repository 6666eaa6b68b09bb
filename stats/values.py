"""The values of one collection record, as every write path (API, weighbridge import) hands them over."""

from dataclasses import dataclass
from datetime import date

from geo.models import Community, District


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
