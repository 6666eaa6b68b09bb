from decimal import Decimal

from sorting.models import Bin
from sorting.services import bin_code


def make_bin(community, category="recyclable", lat=Decimal("34.030000"), lng=Decimal("113.850000"), **fields):
    bin_ = Bin.objects.create(
        community=community, category=category, name=fields.pop("name", "1号桶"), lat=lat, lng=lng, **fields
    )
    return bin_, bin_code(bin_)
