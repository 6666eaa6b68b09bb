"""Rollup freshness for /metrics: how long since `refresh_rollups` last read each event source."""

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from backend.observability.exposition import register_collector

from .models import Watermark


class RollupWatermarkCollector:
    def collect(self):
        age = GaugeMetricFamily(
            "greenloop_rollup_watermark_age_seconds",
            "Seconds since the statistics refresh last read each event source (how stale the dashboard can be).",
            labels=["source"],
        )
        now = timezone.now()
        for source, refreshed_at in Watermark.objects.values_list("source", "refreshed_at"):
            if refreshed_at is not None:
                age.add_metric([source], (now - refreshed_at).total_seconds())
        yield age


register_collector(RollupWatermarkCollector())
