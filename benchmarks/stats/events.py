"""Bulk drops and deposits for the benchmark, written with INSERT ... SELECT over generate_series.

The column list comes from the sorting and kiosks models themselves: the columns statistics cares
about get realistic values below, every other column its model default (or NULL, or a fresh UUID),
so the loader follows those models without restating them.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

from django.apps import apps
from django.db import connection
from django.db.models import NOT_PROVIDED, ForeignKey, UUIDField

from backend.categories import WasteCategory

YEAR_START = "2026-01-01"
CATEGORIES = [c.value for c in WasteCategory]
MODELS = {"drops": ("sorting", "Drop"), "deposits": ("kiosks", "Deposit")}


def _execute(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        import json

        return "'" + json.dumps(value).replace("'", "''") + "'::jsonb"
    return "'" + str(value).replace("'", "''") + "'"


def _columns(model, given: dict[str, str], time_sql: str) -> tuple[str, str]:
    """(column list, SELECT expressions) filling every concrete column of the model."""
    names, exprs = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.name not in given:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.name in given:
            exprs.append(given[field.name])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            exprs.append(time_sql)
        elif isinstance(field, UUIDField):
            exprs.append("gen_random_uuid()")
        elif field.default is not NOT_PROVIDED:
            default = field.default() if callable(field.default) else field.default
            if isinstance(default, uuid.UUID):
                exprs.append("gen_random_uuid()")
            elif isinstance(default, datetime):
                exprs.append(time_sql)
            else:
                exprs.append(_literal(default))
        elif field.null:
            exprs.append("NULL")
        elif isinstance(field, ForeignKey):
            raise RuntimeError(f"{model.__name__}.{field.name}: no value for a required relation")
        elif field.blank and field.get_internal_type() in {"CharField", "TextField", "SlugField"}:
            exprs.append("''")
        elif field.get_internal_type() in {"CharField", "TextField", "SlugField"}:
            exprs.append("md5(random()::text)")
        elif field.get_internal_type() == "JSONField":
            exprs.append("'{}'::jsonb")
        elif field.get_internal_type() == "DateTimeField":
            exprs.append(time_sql)
        else:
            raise RuntimeError(f"{model.__name__}.{field.name}: no value to load")
    return ", ".join(names), ", ".join(exprs)


def _field_names(model) -> set[str]:
    return {f.name for f in model._meta.concrete_fields}


def _pick(model, values: dict[str, str]) -> dict[str, str]:
    names = _field_names(model)
    return {name: expr for name, expr in values.items() if name in names}


def installed(app_label: str, model_name: str) -> bool:
    try:
        apps.get_model(app_label, model_name)
    except LookupError:
        return False
    return True


def _bins() -> None:
    bin_model = apps.get_model("sorting", "Bin")
    for category in CATEGORIES:
        given = _pick(
            bin_model,
            {
                "community": "c.id",
                "category": f"'{category}'",
                "name": f"c.name || ' {category}'",
                "active": "true",
                "is_active": "true",
            },
        )
        columns, exprs = _columns(bin_model, given, "now()")
        _execute(
            f"INSERT INTO {bin_model._meta.db_table} ({columns}) SELECT {exprs} FROM geo_community c ORDER BY c.id"
        )
    community = bin_model._meta.get_field("community").column
    _execute(
        f"""CREATE TABLE bench_bin AS SELECT {community} AS community_id, category, min(id) AS id
            FROM {bin_model._meta.db_table} GROUP BY 1, 2"""
    )
    _execute("CREATE UNIQUE INDEX ON bench_bin (community_id, category)")
    _execute("ANALYZE bench_bin")


def _kiosks() -> None:
    kiosk_model = apps.get_model("kiosks", "Kiosk")
    given = _pick(kiosk_model, {"community": "c.id", "name": "c.name || ' 回收箱'", "enabled": "true"})
    columns, exprs = _columns(kiosk_model, given, "now()")
    _execute(
        f"INSERT INTO {kiosk_model._meta.db_table} ({columns}) SELECT {exprs} FROM geo_community c ORDER BY c.id"
    )
    community = kiosk_model._meta.get_field("community").column
    _execute(
        f"CREATE TABLE bench_kiosk AS SELECT {community} AS community_id, min(id) AS id "
        f"FROM {kiosk_model._meta.db_table} GROUP BY 1"
    )
    _execute("CREATE UNIQUE INDEX ON bench_kiosk (community_id)")
    _execute("ANALYZE bench_kiosk")


def _places() -> None:
    _execute(
        """CREATE TABLE bench_resident AS
           SELECT row_number() OVER (ORDER BY h.id) AS n, h.id AS household_id, h.community_id, u.id AS user_id
           FROM accounts_household h JOIN accounts_user u ON u.household_id = h.id"""
    )
    _execute("CREATE UNIQUE INDEX ON bench_resident (n)")
    _execute("ANALYZE bench_resident")
    if installed("sorting", "Bin"):
        _bins()
    if installed("kiosks", "Kiosk"):
        _kiosks()


# Evenings and weekends are busier: a random instant of the slice's days, nudged toward 18:00-21:00 local.
EVENT_TIME = (
    "(%(start)s::timestamptz + floor(random() * %(days)s) * interval '1 day'"
    " + ((10 + floor(random() * 12)) * interval '1 hour') - interval '8 hours'"
    " + floor(random() * 3600) * interval '1 second')"
)


def _drops(n: int, start: date, days: int) -> int:
    drop = apps.get_model("sorting", "Drop")
    names = _field_names(drop)
    status = "CASE WHEN g.r < 0.80 THEN 'accepted' WHEN g.r < 0.90 THEN 'rejected' ELSE 'pending' END"
    given = {
        "bin": "b.id",
        "resident": "r.user_id",
        "household": "r.household_id",
        "community": "r.community_id",
        "created_at": "g.at",
        "status": status,
        "points_awarded": "CASE WHEN g.r < 0.80 THEN 10 ELSE 0 END",
    }
    if "verdict" in names:
        given["verdict"] = (
            # graded correct -> accepted; 0.70-0.80 auto-accepted (no verdict); incorrect -> rejected
            "CASE WHEN g.r < 0.70 THEN 'correct' WHEN g.r >= 0.80 AND g.r < 0.90 THEN 'incorrect' ELSE '' END"
        )
    for stamp in ("graded_at", "decided_at"):
        if stamp in names:
            given[stamp] = "CASE WHEN g.r < 0.90 THEN g.at + interval '2 hours' ELSE NULL END"
    if "updated_at" in names:
        given["updated_at"] = "g.at + interval '2 hours'"
    columns, exprs = _columns(drop, _pick(drop, given), "g.at")
    return _execute(
        f"""INSERT INTO {drop._meta.db_table} ({columns})
            SELECT {exprs} FROM (
                SELECT {EVENT_TIME} AS at, random() AS r, 1 + floor(random() * %(households)s)::bigint AS n,
                       (ARRAY['recyclable', 'kitchen', 'kitchen', 'other', 'other', 'hazardous'])
                       [1 + floor(random() * 6)::int] AS category
                FROM generate_series(1, %(n)s)
            ) g
            JOIN bench_resident r ON r.n = g.n
            JOIN bench_bin b ON b.community_id = r.community_id AND b.category = g.category
            ORDER BY g.at""",
        {"n": n, "days": days, "start": start.isoformat(), "households": _households()},
    )


def _deposits(n: int, start: date, days: int) -> int:
    deposit = apps.get_model("kiosks", "Deposit")
    material_field = deposit._meta.get_field("material")
    material = "m.id" if material_field.is_relation else "m.code"
    given = {
        "kiosk": "k.id",
        "material": material,
        "weight_g": "(200 + floor(random() * 4800))::int",
        "count": "1",
        "item_count": "1",
        "occurred_at": "g.at",
        "created_at": "g.at + interval '1 minute'",
        "received_at": "g.at + interval '1 minute'",
        "resident": "r.user_id",
        "household": "r.household_id",
        "community": "k.community_id",
        "points_awarded": "10",
        "points": "10",
    }
    columns, exprs = _columns(deposit, _pick(deposit, given), "g.at")
    return _execute(
        f"""INSERT INTO {deposit._meta.db_table} ({columns})
            SELECT {exprs} FROM (
                SELECT {EVENT_TIME} AS at, 1 + floor(random() * %(households)s)::bigint AS n,
                       1 + floor(random() * (SELECT count(*) FROM rewards_material))::int AS material_n
                FROM generate_series(1, %(n)s)
            ) g
            JOIN bench_resident r ON r.n = g.n
            JOIN bench_kiosk k ON k.community_id = r.community_id
            JOIN (SELECT row_number() OVER (ORDER BY id) AS n, * FROM rewards_material) m ON m.n = g.material_n
            ORDER BY g.at""",
        {"n": n, "days": days, "start": start.isoformat(), "households": _households()},
    )


def _households() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_resident")
        return cursor.fetchone()[0]


def _year_start() -> date:
    return date.fromisoformat(YEAR_START)


def _days_so_far() -> int:
    return max(1, (datetime.now(UTC).date() - _year_start()).days)


def events(total: int) -> dict:
    """60 % drops, 40 % deposits over the year so far, in batches of about a million rows.

    Written in time order, as a service appends them: each batch covers its own slice of the year,
    sorted by time, so one community's day lies on a few heap pages and ids grow with time.
    """
    _places()
    days = _days_so_far()
    counts = {"drops": 0, "deposits": 0}
    batch = 1_000_000
    loaders = [("drops", 0.6, _drops), ("deposits", 0.4, _deposits)]
    present = [(kind, share, loader) for kind, share, loader in loaders if installed(*MODELS[kind])]
    if len(present) < len(loaders):
        # An area not built yet: its share goes to the other, so the total stays as asked.
        print(f"   only {[kind for kind, _s, _l in present]} can be loaded in this build")
        present = [(kind, 1.0, loader) for kind, _share, loader in present]
    for kind, share, loader in present:
        wanted = int(total * share)
        slices = min(days, max(1, -(-wanted // batch)))
        for index in range(slices):
            first, last = days * index // slices, days * (index + 1) // slices
            size = wanted * (index + 1) // slices - wanted * index // slices
            counts[kind] += loader(size, _year_start() + timedelta(days=first), last - first)
            print(f"   {kind}: {counts[kind]:,}", flush=True)
    return counts


def burst(*, drops: int, deposits: int) -> None:
    """New events as the worker meets them: today's, plus late offline deposits of the last week."""
    today = datetime.now(UTC).date()
    if installed(*MODELS["drops"]):
        _drops(drops, today, 1)
    _deposits(deposits // 2, today, 1)
    _deposits(deposits - deposits // 2, today - timedelta(days=7), 7)
