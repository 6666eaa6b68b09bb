"""Reads of kiosks, scoped to the caller."""

from django.db.models import Prefetch, QuerySet

from accounts.selectors import visible_districts

from .models import Kiosk, KioskAlert, Pickup


def kiosks_visible_to(user) -> QuerySet[Kiosk]:
    open_alerts = KioskAlert.objects.filter(cleared_at__isnull=True).order_by("raised_at")
    return (
        Kiosk.objects.filter(community__district__in=visible_districts(user))
        .select_related("community")
        .prefetch_related("materials", Prefetch("alerts", queryset=open_alerts, to_attr="open_alerts"))
        .order_by("id")
    )


def pickups_visible_to(user) -> QuerySet:
    return (
        Pickup.objects.filter(kiosk__community__district__in=visible_districts(user))
        .select_related("kiosk")
        .prefetch_related("lines__material")
        .order_by("-collected_at", "-id")
    )
