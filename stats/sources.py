"""Where the raw events live: SQL expressions over the sorting and kiosks tables, stated in one place.

Statistics read drops and deposits but never change them, so the only coupling to those areas is this
module: table and column names taken from their models' metadata, each checked against an explicit
list before it is put into SQL, and the few expressions below.
"""

import re
import zoneinfo
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from .periods import STATS_TZ_NAME

# The only tables statistics read events from.
SOURCE_TABLES = frozenset({"sorting_drop", "sorting_bin", "kiosks_deposit", "rewards_material"})
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")

if STATS_TZ_NAME not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"STATS_TIME_ZONE {STATS_TZ_NAME!r} is not an IANA time zone")


def local_day_sql(column: str) -> str:
    # The zone name is one of zoneinfo's (checked above), never input.
    return f"(({column}) AT TIME ZONE '{STATS_TZ_NAME}')::date"


@dataclass(frozen=True)
class EventSource:
    name: str
    from_sql: str  # FROM clause; every expression below refers to its aliases
    id: str
    at: str  # when the event happened (its statistics day)
    changed: tuple[str, ...]  # columns whose recent values mark a row to be re-read
    community: str  # the community where the event happened
    household: str  # the resident's household, for participation
    participates: str  # boolean: this event makes its household a participant
    # for drops
    category: str = "NULL"
    accepted: str = "false"
    rejected: str = "false"
    graded: str = "false"
    correct: str = "false"
    # for deposits
    material: str = "NULL"
    material_category: str = "NULL"
    weight_g: str = "0"


def _table(app_label: str, model_name: str):
    model = apps.get_model(app_label, model_name)
    if model._meta.db_table not in SOURCE_TABLES:
        raise ImproperlyConfigured(f"statistics do not read {model._meta.db_table!r}")
    return model, connection.ops.quote_name(model._meta.db_table)


def _column(model, name: str) -> str:
    column = model._meta.get_field(name).column
    if not _PLAIN_NAME.fullmatch(column):
        raise ImproperlyConfigured(f"{model._meta.db_table}.{column} is not a plain column name")
    return column


def drop_source() -> EventSource:
    drop, drop_table = _table("sorting", "Drop")
    bin_model, bin_table = _table("sorting", "Bin")
    verdict = f"d.{_column(drop, 'verdict')}"
    status = f"d.{_column(drop, 'status')}"
    return EventSource(
        name="drops",
        from_sql=f"{drop_table} d JOIN {bin_table} b ON b.id = d.{_column(drop, 'bin')}",
        id="d.id",
        at=f"d.{_column(drop, 'created_at')}",
        # A verdict or an auto-accept rewrites the row and sets `updated_at` (indexed).
        changed=(f"d.{_column(drop, 'updated_at')}",),
        community=f"d.{_column(drop, 'community')}",
        household=f"d.{_column(drop, 'household')}",
        participates=f"{status} = 'accepted'",
        category=f"b.{_column(bin_model, 'category')}",
        accepted=f"{status} = 'accepted'",
        rejected=f"{status} = 'rejected'",
        graded=f"{verdict} IN ('correct', 'incorrect')",
        correct=f"{verdict} = 'correct'",
    )


def deposit_source() -> EventSource:
    deposit, deposit_table = _table("kiosks", "Deposit")
    material, material_table = _table("rewards", "Material")
    return EventSource(
        name="deposits",
        from_sql=f"{deposit_table} p JOIN {material_table} m ON m.id = p.{_column(deposit, 'material')}",
        id="p.id",
        at=f"p.{_column(deposit, 'occurred_at')}",
        # Deposits never change once written: new rows and late commits are found by id alone.
        changed=(),
        community=f"p.{_column(deposit, 'community')}",
        household=f"p.{_column(deposit, 'household')}",
        participates="true",
        material=f"m.{_column(material, 'code')}",
        material_category=f"m.{_column(material, 'category')}",
        weight_g=f"p.{_column(deposit, 'weight_g')}",
    )


def event_sources() -> list[EventSource]:
    return [drop_source(), deposit_source()]
