"""Input fields shared by every area's serializers, so no number reaches PostgreSQL unbounded."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from stats.selectors import EARLIEST_DAY, LATEST_DAY

# Primary keys are bigint (DEFAULT_AUTO_FIELD); a larger number cannot name a row.
ID_MAX = 2**63 - 1
# PositiveIntegerField columns are PostgreSQL integer.
INT32_MAX = 2**31 - 1


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


def _within_covered_years(value):
    if not (EARLIEST_DAY <= value <= LATEST_DAY):
        raise serializers.ValidationError(_("Dates lie between 2000-01-01 and 2199-12-31."))
    return value


class BoundedDateField(serializers.DateField):
    """A day inside the years every period of the service is checked against (stats.selectors)."""

    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", ()), _within_covered_years]
        super().__init__(**kwargs)
