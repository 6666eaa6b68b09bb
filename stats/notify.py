"""Telling dashboards that statistics moved: `stats.updated` to each district's group and its city's."""

from backend.realtime.groups import city_stats_group, district_stats_group
from backend.realtime.publish import publish
from geo.models import District


def stats_updated(district_ids: set[int]) -> None:
    cities = set()
    for district in District.objects.filter(id__in=district_ids).only("id", "city_id"):
        publish(district_stats_group(district.id), "stats.updated", {"district_id": district.id})
        cities.add(district.city_id)
    for city_id in cities:
        publish(city_stats_group(city_id), "stats.updated", {"district_ids": sorted(district_ids)})


def manifests_overdue(manifests) -> None:
    """`manifest.overdue` to each manifest's district and city, on the channel the dashboards hear."""
    for manifest in manifests:
        payload = {
            "manifest_id": manifest.pk,
            "number": manifest.number,
            "district_id": manifest.district_id,
            "handler": manifest.handler.name,
            "handed_over_at": manifest.handed_over_at.isoformat(),
        }
        publish(district_stats_group(manifest.district_id), "manifest.overdue", payload)
        publish(city_stats_group(manifest.district.city_id), "manifest.overdue", payload)
