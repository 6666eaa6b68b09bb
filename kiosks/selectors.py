"""Reads of kiosks, scoped to the caller."""

from django.db.models import Prefetch, QuerySet

from accounts.selectors import visible_districts

from .models import Kiosk, KioskAlert


def kiosks_visible_to(user) -> QuerySet[Kiosk]:
    open_alerts = KioskAlert.objects.filter(cleared_at__isnull=True).order_by("raised_at")
    return (
        Kiosk.objects.filter(community__district__in=visible_districts(user))
        .select_related("community")
        .prefetch_related("materials", Prefetch("alerts", queryset=open_alerts, to_attr="open_alerts"))
        .order_by("id")
    )
