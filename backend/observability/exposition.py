"""GET /metrics: Prometheus text, for the configured scraper addresses or a bearer token only.

The address is the direct peer (REMOTE_ADDR) as the ASGI server gives it; a forwarded header never
opens this door.
"""

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.utils.module_loading import autodiscover_modules
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from .job_metrics import JobCollector

# Collectors that read the database at scrape time, added by areas in their own `metrics.py` (found
# by autodiscovery, so this module imports no area).
COLLECTORS: list = [JobCollector()]
_discovered = False


def register_collector(collector) -> None:
    COLLECTORS.append(collector)


def _collectors() -> list:
    global _discovered
    if not _discovered:
        autodiscover_modules("metrics")
        _discovered = True
    return COLLECTORS


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in settings.METRICS_ALLOWED_NETWORKS)


def _process_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics(request):
    if not _allowed(request):
        # Not 403: who is not allowed to scrape need not learn that something is here.
        return HttpResponseNotFound()
    from_database = CollectorRegistry()
    for collector in _collectors():
        from_database.register(collector)
    return HttpResponse(_process_metrics() + generate_latest(from_database), content_type=CONTENT_TYPE_LATEST)
