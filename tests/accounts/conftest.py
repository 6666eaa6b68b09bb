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
