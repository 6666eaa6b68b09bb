"""Statistics at city scale: load ~10 million drops and deposits, refresh the rollups, time the endpoints.

    DATABASE_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    .venv/bin/python benchmarks/stats/bench.py --events 10000000

It (re)creates its own database (default `greenloop_stats_bench`), migrates it, writes the geography,
households, residents, bins, kiosks and events straight into the tables with generate_series SQL,
rebuilds the rollups (`refresh_rollups --full`), times incremental rounds (3 by default), each after
a burst of new events, and prints p50/p95 latency of the statistics endpoints, called in-process through Django's
test client (middleware, authentication, DRF and serialisation included; no network).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.common import operator_env, recreate_database  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=10_000_000, help="drops + deposits (default 10 million)"
    )
    parser.add_argument("--households", type=int, default=400_000)
    parser.add_argument("--communities-per-district", type=int, default=60)
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    parser.add_argument("--db", default="greenloop_stats_bench")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database, only re-time")
    parser.add_argument("--verify", action="store_true", help="also run verify_rollups (slow at full size)")
    parser.add_argument("--rounds", type=int, default=3, help="incremental rounds, each after its own burst")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON object")
    return parser.parse_args()


ARGS = parse_args()
ADMIN_URL = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
os.environ["DATABASE_URL"] = ADMIN_URL.rsplit("/", 1)[0] + "/" + ARGS.db
# Timed as an operator runs it: DEBUG off (no query log kept per statement), strong keys.
os.environ.update(
    operator_env("testserver")
    | {
        "LOG_LEVEL": "WARNING",
        # The pages name their static files by content hash, from the manifest collectstatic writes.
        "STATIC_ROOT": tempfile.mkdtemp(prefix="greenloop-stats-bench-static-"),
    }
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")


def timed(label: str):
    class Timer:
        def __enter__(self):
            self.started = time.perf_counter()
            print(f"-- {label} ...", flush=True)
            return self

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.started
            print(f"   {label}: {self.seconds:.1f} s", flush=True)

    return Timer()


def main() -> None:
    if not ARGS.reuse:
        recreate_database(os.environ["DATABASE_URL"], ADMIN_URL)
    import django

    django.setup()
    import load
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)
    if ARGS.reuse:
        # A database loaded by an older build gets this build's schema (a no-op when it has it).
        call_command("migrate", verbosity=0)
    else:
        with timed("migrate"):
            call_command("migrate", verbosity=0)
        with timed("geography, households, residents, bins, kiosks"):
            load.people_and_places(
                communities_per_district=ARGS.communities_per_district, households=ARGS.households
            )
        with timed(f"{ARGS.events:,} drops and deposits"):
            counts = load.events(ARGS.events)
        print(f"   loaded {counts}")
        with timed("collections"):
            load.collections()
        with timed("VACUUM ANALYZE"):
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        with timed("refresh_rollups --full"):
            call_command("refresh_rollups", full=True)
    with timed(
        f"{ARGS.rounds} incremental rounds, each after 1,000 new drops and 500 new deposits (late ones too)"
    ):
        rounds = []
        for _ in range(ARGS.rounds):
            load.burst(drops=1000, deposits=500)
            started = time.perf_counter()
            call_command("refresh_rollups")
            rounds.append(round((time.perf_counter() - started) * 1000, 1))
        # The first round of a new process also imports the command and fills the connection's
        # caches; the worker runs its rounds in one long-lived process, as the later ones here.
        FIGURES["incremental_rounds_ms"] = rounds
        FIGURES["incremental_round_ms"] = statistics.median(rounds)
        print(f"   incremental rounds: {', '.join(f'{ms:.0f}' for ms in rounds)} ms")
    if ARGS.verify:
        with timed("verify_rollups"):
            call_command("verify_rollups")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    latency()
    reference = FIGURES["endpoints"]["reference: a district's settings"]["p50_ms"]
    FIGURES["p95_over_reference_p50"] = {
        label: round(figures["p95_ms"] / reference, 2) for label, figures in FIGURES["endpoints"].items()
    }
    if ARGS.json:
        print(json.dumps(FIGURES, ensure_ascii=False))


# What --json prints: the incremental round and, per endpoint, p50/p95/max in ms.
FIGURES: dict = {"events": ARGS.events, "households": ARGS.households, "endpoints": {}}


def percentile(values, q):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def latency() -> None:
    from rest_framework.test import APIClient

    from accounts.models import Role, User
    from geo.models import District

    weidu = District.objects.get(slug="weidu")
    city_officer = User.objects.filter(role=Role.CITY_OFFICER).first()
    district_officer = User.objects.filter(role=Role.DISTRICT_OFFICER, district=weidu).first()
    year = "from=2026-01-01&to=2026-12-31"
    cases = [
        # The reference: a minimal authenticated view through the same stack (two one-row queries),
        # timed in the same run, so figures of a slow hour on this shared machine can be compared.
        (
            "reference: a district's settings",
            district_officer,
            f"/api/v1/stats/districts/{weidu.id}/settings",
        ),
        ("city officer: a year's statistics, 9 districts", city_officer, f"/api/v1/stats/districts?{year}"),
        ("district officer: a year's statistics", district_officer, f"/api/v1/stats/districts?{year}"),
        (
            "city officer: clipped period 15 Feb - 20 Sep",
            city_officer,
            "/api/v1/stats/districts?from=2026-02-15&to=2026-09-20",
        ),
        (
            "series, a year by day",
            district_officer,
            f"/api/v1/stats/districts/{weidu.id}/series?{year}&granularity=day",
        ),
        (
            "series, a year by week",
            district_officer,
            f"/api/v1/stats/districts/{weidu.id}/series?{year}&granularity=week",
        ),
        (
            "series, a year by month",
            district_officer,
            f"/api/v1/stats/districts/{weidu.id}/series?{year}&granularity=month",
        ),
        (
            "community breakdown, a year",
            district_officer,
            f"/api/v1/stats/districts/{weidu.id}/communities?{year}",
        ),
        # The public page and open data: no login, the whole city's year, rollups only.
        ("public: places of the city's year", None, "/public/data/places.json?year=2026"),
        ("public: indicators by month", None, "/public/data/months.json?year=2026"),
        ("public: communities ranked", None, "/public/data/communities.csv?year=2026"),
        ("public: the page", None, "/public/?year=2026"),
        # The same datasets when the shared copy has expired: every request computes the overview.
        ("public: places, computed fresh (no cached copy)", None, "/public/data/places.json?year=2026"),
        ("public: indicators by month, computed fresh", None, "/public/data/months.json?year=2026"),
    ]
    from django.core.cache import cache

    from api.public import overview_key

    fresh = {label for label, _user, _url in cases if "computed fresh" in label}
    # A benchmark is one client asking many times: the public throttle would stop it.
    from api.public import PublicThrottle

    PublicThrottle.THROTTLE_RATES = {"public": "1000000/min"}
    print()
    print(f"{'endpoint':52} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, user, url in cases:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        for _ in range(5):  # warm caches and connections
            assert client.get(url).status_code == 200, url
        samples = []
        for _ in range(ARGS.requests):
            if label in fresh:
                cache.delete(overview_key(None, 2026))
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        FIGURES["endpoints"][label] = {
            "n": len(samples),
            "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(percentile(samples, 0.95), 1),
            "max_ms": round(max(samples), 1),
        }
        print(
            f"{label:52} {len(samples):>5} {statistics.median(samples):>8.1f} "
            f"{percentile(samples, 0.95):>8.1f} {max(samples):>8.1f}"
        )


if __name__ == "__main__":
    main()
