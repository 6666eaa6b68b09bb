"""Proof that the rollups equal the raw events (each table compared with its recount, both ways), and
that the mass balance's pickups account for exactly the deposits they emptied."""

from dataclasses import dataclass

from django.db import connection

from . import definitions as d

# A record and its reversal leave a zero-weight rollup row, equal to no row at all.
ZERO_ROWS_DO_NOT_COUNT = {
    d.T_COLLECTION: "WHERE weight_g <> 0",
    d.T_COLLECTION_MONTH: "WHERE weight_g <> 0",
    d.T_DISTRICT_DAY: "WHERE collected_g <> 0 OR collected_recovered_g <> 0 OR incinerated_g <> 0"
    " OR deposited_g <> 0 OR deposit_recovered_g <> 0",
    d.T_INDICATOR_DAY: f"WHERE sums <> array_fill(0::bigint, ARRAY[{d.indicators.SUMS_LENGTH}])",
}


@dataclass
class Mismatch:
    table: str
    missing: int  # rows the recount has and the table lacks
    extra: int  # rows the table has and the recount lacks
    sample: list


# The mass balance: what each pickup line says its emptied deposits weighed, against the deposits of
# its kiosk after the previous pickup up to this one. A deposit that reached the server after the
# pickup it belongs to (an offline kiosk) shows here as a difference, which it is.
BALANCE = (
    "kiosks_pickupline.expected_g",
    "pickup_id, material_id, expected_g",
    """WITH p AS (
           SELECT id, kiosk_id, covers_until,
                  lag(covers_until) OVER (PARTITION BY kiosk_id ORDER BY covers_until) AS previous
           FROM kiosks_pickup)
       SELECT p.id AS pickup_id, x.material_id, sum(x.weight_g) AS expected_g
       FROM p JOIN kiosks_deposit x ON x.kiosk_id = p.kiosk_id AND x.occurred_at <= p.covers_until
            AND (p.previous IS NULL OR x.occurred_at > p.previous)
       GROUP BY 1, 2""",
    "SELECT pickup_id, material_id, expected_g FROM kiosks_pickupline WHERE expected_g <> 0",
)


def _compare(cursor, table: str, recount: str, stored: str) -> Mismatch | None:
    cursor.execute(f"SELECT count(*) FROM (({recount}) EXCEPT ALL ({stored})) x")  # noqa: S608 - built here
    missing = cursor.fetchone()[0]
    cursor.execute(f"SELECT count(*) FROM (({stored}) EXCEPT ALL ({recount})) x")  # noqa: S608 - built here
    extra = cursor.fetchone()[0]
    if not (missing or extra):
        return None
    cursor.execute(
        f"(({recount}) EXCEPT ALL ({stored})) UNION ALL (({stored}) EXCEPT ALL ({recount})) LIMIT 6"
    )
    return Mismatch(table, missing, extra, cursor.fetchall())


def verify() -> list[Mismatch]:
    """Compare every rollup table with its recount from the raw events, and the mass balance's pickup
    lines with the deposits they emptied; an empty list means equal."""
    problems = []
    with connection.cursor() as cursor:
        name, columns, recount, stored = BALANCE
        balance = _compare(cursor, name, f"SELECT {columns} FROM ({recount}) r", stored)  # noqa: S608 - constants
        if balance is not None:
            problems.append(balance)
        for table, (columns, select) in d.recount_queries().items():
            nonzero = ZERO_ROWS_DO_NOT_COUNT.get(table, "")
            recount = f"SELECT {columns} FROM ({select}) r {nonzero}"  # noqa: S608 - definitions' columns and query
            stored = f"SELECT {columns} FROM {d.table(table)} {nonzero}"  # noqa: S608 - a rollup table and its columns
            mismatch = _compare(cursor, table, recount, stored)
            if mismatch is not None:
                problems.append(mismatch)
    return problems
