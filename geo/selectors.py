"""Reads of the geography."""

from .models import City


def sole_city() -> City | None:
    """The city of a one-city installation; None when there are several and none may be assumed."""
    cities = list(City.objects.order_by("id")[:2])
    return cities[0] if len(cities) == 1 else None
