import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from stats import notify
from stats.rollups import incremental, rebuild

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Bring the statistics rollups up to date with new and changed drops and deposits."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every rollup from the raw events")
        parser.add_argument(
            "--every", type=float, default=0, help="keep running, refreshing every N seconds (the worker)"
        )
        parser.add_argument("--times", type=int, default=0, help="with --every: stop after N rounds")

    def handle(self, *args, full=False, every=0, times=0, **options):
        rounds = 0
        while True:
            started = time.monotonic()
            try:
                self._round(full=full, started=started)
            except Exception:
                if not every:
                    raise
                # A worker outlives one bad round (a lost connection, a deadlock): the next round
                # recomputes from the same watermark, so nothing is skipped.
                logger.exception("statistics refresh round failed; retrying next round")
            rounds += 1
            full = False
            if not every or (times and rounds >= times):
                return
            close_old_connections()
            time.sleep(max(0.0, every - (time.monotonic() - started)))

    def _round(self, *, full: bool, started: float) -> None:
        result = rebuild.rebuild() if full else incremental.refresh()
        if result.changed or full:
            notify.stats_updated(result.districts)
        self.stdout.write(
            f"drop buckets {result.drop_buckets}, deposit buckets {result.deposit_buckets}, "
            f"household-months {result.household_months}, districts {sorted(result.districts)} "
            f"in {time.monotonic() - started:.2f} s"
        )
