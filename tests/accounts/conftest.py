import pytest
from rest_framework.throttling import ScopedRateThrottle


@pytest.fixture
def throttle_rates(monkeypatch):
    """`throttle_rates(register=..., login=...)`: DRF reads the rates once into a class attribute."""

    def set_rates(**rates):
        merged = {"register": "1000/min", "login": "1000/min", **rates}
        monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", merged)

    set_rates()
    return set_rates


@pytest.fixture
def xuchang(django_db_blocker):
    """Reference geography for `transaction=True` tests, whose flush between tests empties every table."""
    from geo.models import City, District
    from geo.reference import load_xuchang

    load_xuchang(City, District)
