"""Geography writes: the reference city and districts."""

from .models import City, District
from .reference import load_xuchang


def load_reference_geography() -> City:
    """Create or refresh Xuchang and its districts; safe to run any number of times."""
    return load_xuchang(City, District)
