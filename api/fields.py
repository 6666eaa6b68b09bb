"""Input fields shared by every area's serializers, so no number reaches PostgreSQL unbounded."""

from rest_framework import serializers

# Primary keys are bigint (DEFAULT_AUTO_FIELD); a larger number cannot name a row.
ID_MAX = 2**63 - 1
# PositiveIntegerField columns are PostgreSQL integer.
INT32_MAX = 2**31 - 1


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)
