"""Reading the trail, already narrowed to what the reader may see."""

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditEntry


def entries_for(
    *, everything: bool, city_id: int | None, district_ids: list[int], filters: dict
) -> QuerySet[AuditEntry]:
    """Rows of the reader's scope: `everything` for an administrator of the installation; else the
    rows of their city (by city or by one of its districts) or of the districts given."""
    rows = AuditEntry.objects.all()
    if not everything:
        scope = Q(district_id__in=district_ids)
        if city_id is not None:
            scope |= Q(city_id=city_id, district_id__isnull=True)
        rows = rows.filter(scope)
    if "actor_id" in filters:
        rows = rows.filter(actor_id=filters["actor_id"])
    if "actor_kind" in filters:
        rows = rows.filter(actor_kind=filters["actor_kind"])
    if "object_type" in filters:
        rows = rows.filter(object_type=filters["object_type"])
    if "object_id" in filters:
        rows = rows.filter(object_id=filters["object_id"])
    if "action" in filters:
        rows = rows.filter(action=filters["action"])
    if "from" in filters:
        rows = rows.filter(occurred_at__gte=_day_start(filters["from"]))
    if "to" in filters:
        rows = rows.filter(occurred_at__lt=_day_start(filters["to"] + timedelta(days=1)))
    return rows.order_by("-id")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
