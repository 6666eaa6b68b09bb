"""One refresher at a time: the lock and the transaction of a round, and what a round reports."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction

# Serialises refreshers across processes: two workers recomputing the same bucket would race.
ADVISORY_LOCK = 0x5354415453  # "STATS"


@dataclass
class RefreshResult:
    drop_buckets: int = 0
    deposit_buckets: int = 0
    household_months: int = 0
    districts: set[int] = field(default_factory=set)
    households_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.drop_buckets or self.deposit_buckets or self.household_months or self.households_changed
        )


@contextmanager
def locked_round() -> Iterator[tuple]:
    """(cursor, the database's time the round started) inside one transaction holding the lock."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        # A round's statements each read a few thousand rows by index: starting parallel workers for
        # them costs more than it saves, and the round shares its cores with the requests it serves.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT now()")
        yield cursor, cursor.fetchone()[0]
