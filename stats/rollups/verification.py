"""Proof that the rollups equal the raw events: each table compared with its recount, both ways."""

from dataclasses import dataclass

from django.db import connection

from . import definitions as d

# A record and its reversal leave a zero-weight rollup row, equal to no row at all.
ZERO_ROWS_DO_NOT_COUNT = {
    d.T_COLLECTION: "WHERE weight_g <> 0",
    d.T_DISTRICT_DAY: "WHERE collected_g <> 0 OR collected_recovered_g <> 0 OR incinerated_g <> 0"
    " OR deposited_g <> 0 OR deposit_recovered_g <> 0",
}


@dataclass
class Mismatch:
    table: str
    missing: int  # rows the recount has and the table lacks
    extra: int  # rows the table has and the recount lacks
    sample: list


def verify() -> list[Mismatch]:
    """Compare every rollup table with its recount from the raw events; an empty list means equal."""
    problems = []
    with connection.cursor() as cursor:
        for table, (columns, select) in d.recount_queries().items():
            nonzero = ZERO_ROWS_DO_NOT_COUNT.get(table, "")
            recount = f"SELECT {columns} FROM ({select}) r {nonzero}"  # noqa: S608 - definitions' columns and query
            stored = f"SELECT {columns} FROM {d.table(table)} {nonzero}"  # noqa: S608 - a rollup table and its columns
            cursor.execute(f"SELECT count(*) FROM (({recount}) EXCEPT ALL ({stored})) x")  # noqa: S608 - built above
            missing = cursor.fetchone()[0]
            cursor.execute(f"SELECT count(*) FROM (({stored}) EXCEPT ALL ({recount})) x")  # noqa: S608 - built above
            extra = cursor.fetchone()[0]
            if missing or extra:
                cursor.execute(
                    f"(({recount}) EXCEPT ALL ({stored})) UNION ALL (({stored}) EXCEPT ALL ({recount})) LIMIT 6"
                )
                problems.append(Mismatch(table, missing, extra, cursor.fetchall()))
    return problems
