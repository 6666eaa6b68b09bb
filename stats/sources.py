"""Where the raw events live: SQL expressions over the sorting and kiosks tables, stated in one place.

Statistics read drops and deposits but never change them, so the only coupling to those areas is this
module: table and column names taken from their models' metadata, and the few expressions below.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import connection

from .periods import STATS_TZ_NAME


def local_day_sql(column: str) -> str:
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
    return model, connection.ops.quote_name(model._meta.db_table)


def _fields(model) -> set[str]:
    return {f.name for f in model._meta.get_fields()}


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


def drop_source() -> EventSource:
    drop, drop_table = _table("sorting", "Drop")
    bin_model, bin_table = _table("sorting", "Bin")
    names = _fields(drop)
    # A verdict or an auto-accept rewrites the row; `updated_at` is indexed, `graded_at` the fallback.
    changed_field = next((n for n in ("updated_at", "graded_at") if n in names), None)
    changed = (f"d.{_column(drop, changed_field)}",) if changed_field else ()
    household = f"d.{_column(drop, 'household')}" if "household" in names else "NULL"
    if "verdict" in names:
        verdict = f"d.{_column(drop, 'verdict')}"
        graded = f"coalesce({verdict}, '') IN ('correct', 'incorrect')"
        correct = f"{verdict} = 'correct'"
    else:
        graded = correct = "false"
    status = "d." + _column(drop, "status")
    community = (
        f"d.{_column(drop, 'community')}" if "community" in names else "b." + _column(bin_model, "community")
    )
    return EventSource(
        name="drops",
        from_sql=f"{drop_table} d JOIN {bin_table} b ON b.id = d.{_column(drop, 'bin')}",
        id="d.id",
        at="d." + _column(drop, "created_at"),
        changed=changed,
        community=community,
        household=household,
        participates=f"{status} = 'accepted'",
        category="b." + _column(bin_model, "category"),
        accepted=f"{status} = 'accepted'",
        rejected=f"{status} = 'rejected'",
        graded=graded,
        correct=correct,
    )


def deposit_source() -> EventSource:
    deposit, deposit_table = _table("kiosks", "Deposit")
    kiosk, kiosk_table = _table("kiosks", "Kiosk")
    material_model, material_table = _table("rewards", "Material")
    names = _fields(deposit)
    material_field = deposit._meta.get_field("material")
    if material_field.is_relation:
        material_join = f"JOIN {material_table} m ON m.id = p.{material_field.column}"
    else:
        material_join = f"JOIN {material_table} m ON m.code = p.{material_field.column}"
    if "community" in names:
        community = "p." + _column(deposit, "community")
        kiosk_join = ""
    else:
        community = "k." + _column(kiosk, "community")
        kiosk_join = f"JOIN {kiosk_table} k ON k.id = p.{_column(deposit, 'kiosk')}"
    # Deposits never change once written: new rows and late commits are found by id alone.
    changed: tuple[str, ...] = ()
    household = f"p.{_column(deposit, 'household')}" if "household" in names else "NULL"
    return EventSource(
        name="deposits",
        from_sql=f"{deposit_table} p {kiosk_join} {material_join}",
        id="p.id",
        at="p." + _column(deposit, "occurred_at"),
        changed=changed,
        community=community,
        household=household,
        participates="true",
        material="m." + _column(material_model, "code"),
        material_category="m." + _column(material_model, "category"),
        weight_g="p." + _column(deposit, "weight_g"),
    )


def available() -> list[EventSource]:
    """The sources whose models exist in this build (each area may be deployed on its own)."""
    found = []
    for factory in (drop_source, deposit_source):
        try:
            found.append(factory())
        except LookupError:
            continue
    return found
