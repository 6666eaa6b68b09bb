from decimal import Decimal

from sorting.models import Bin
from sorting.services import bin_code

# Where make_bin's bins stand: a drop sent from there passes the district's coordinates rule.
AT_BIN = {"lat": Decimal("34.030000"), "lng": Decimal("113.850000")}
AT_BIN_JSON = {key: str(value) for key, value in AT_BIN.items()}


def make_bin(community, category="recyclable", lat=Decimal("34.030000"), lng=Decimal("113.850000"), **fields):
    bin_ = Bin.objects.create(
        community=community, category=category, name=fields.pop("name", "1号桶"), lat=lat, lng=lng, **fields
    )
    return bin_, bin_code(bin_)
