"""A short per-process cache of the kiosk rows that signed requests read.

Every signed request needs its kiosk (enabled, secret version, community, materials); reading it
from PostgreSQL each time was a quarter of a deposit's cost. An entry lives `TTL_SECONDS`, so a
change made by another process (disabling, a material list) reaches every process within that time;
changes made through kiosks.services or saved through the ORM drop the entry at once in their own
process. A signature that
fails against the cached secret version is checked once more against a fresh row, so a rotated
secret is accepted immediately everywhere.
"""

import threading
import time

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.db.models.signals import post_save

from kiosks.models import Kiosk

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000

_clock = time.monotonic
_entries: dict[int, tuple[float, Kiosk]] = {}
_lock = threading.Lock()


def load(kiosk_pk: int) -> Kiosk | None:
    return (
        Kiosk.objects.select_related("community__district")
        .annotate(
            material_ids=ArraySubquery(
                Kiosk.materials.through.objects.filter(kiosk_id=OuterRef("pk")).values("material_id")
            )
        )
        .filter(pk=kiosk_pk)
        .first()
    )


def get(kiosk_pk: int, *, fresh: bool = False) -> Kiosk | None:
    now = _clock()
    if not fresh:
        entry = _entries.get(kiosk_pk)
        if entry and now - entry[0] < TTL_SECONDS:
            return entry[1]
    kiosk = load(kiosk_pk)
    with _lock:
        if kiosk is None:
            _entries.pop(kiosk_pk, None)
        else:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[kiosk_pk] = (now, kiosk)
    return kiosk


def expiring(kiosk_pk: int, within: float) -> bool:
    """Whether this kiosk's entry is missing or expires within `within` seconds."""
    entry = _entries.get(kiosk_pk)
    return entry is None or _clock() - entry[0] >= TTL_SECONDS - within


def forget(kiosk_pk: int) -> None:
    with _lock:
        _entries.pop(kiosk_pk, None)


def clear() -> None:
    with _lock:
        _entries.clear()


def _saved(sender, instance, **kwargs):
    # A row saved through the ORM in this process (admin, shell) is seen by the next request here.
    forget(instance.pk)


post_save.connect(_saved, sender=Kiosk, dispatch_uid="kiosks.kiosk_cache.forget")
