"""Bulk loaders for the statistics benchmark: generate_series SQL straight into the tables.

Events spread over 1 January 2026 to the day before the run, with more activity on weekdays'
evenings; the random choices are seeded, so a run is repeatable.
"""

from django.db import connection

from accounts.models import Role, User
from geo.models import District

SEED = 0.42
YEAR_START = "2026-01-01"


def _execute(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def people_and_places(*, communities_per_district: int, households: int) -> None:
    _execute("SELECT setseed(%s)", [SEED])
    _execute(
        """INSERT INTO geo_community (district_id, name, created_at)
           SELECT d.id, d.name || '第' || g || '社区', now() FROM geo_district d, generate_series(1, %s) g""",
        [communities_per_district],
    )
    _execute(
        "CREATE TEMP TABLE bench_community AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM geo_community"
    )
    _execute(
        """INSERT INTO accounts_household (community_id, address, created_at)
           SELECT c.id, g || '号', now() FROM generate_series(1, %s) g
           JOIN bench_community c ON c.n = g %% (SELECT count(*) FROM bench_community)""",
        [households],
    )
    _execute(
        """INSERT INTO accounts_user (password, is_superuser, public_id, phone, display_name, role, is_active,
                                      is_staff, date_joined, household_id)
           SELECT '!', false, gen_random_uuid(), '+86137' || lpad(h.id::text, 8, '0'), '居民' || h.id,
                  'resident', true, false, now(), h.id
           FROM accounts_household h"""
    )
    weidu = District.objects.get(slug="weidu")
    User.objects.create_user("+8613900000001", "bench-password-1", role=Role.CITY_OFFICER, city=weidu.city)
    User.objects.create_user("+8613900000002", "bench-password-2", role=Role.DISTRICT_OFFICER, district=weidu)


def collections() -> None:
    """Four weighbridge records per district and day: recyclables, kitchen, other to landfill and to incineration."""
    _execute(
        """INSERT INTO stats_collection (category, weight_g, date, destination, source, reference, note,
                                         created_at, district_id)
           SELECT r.category, (r.base * (1 + random()) * 1000)::bigint, day::date, r.destination, 'import',
                  'WB-' || d.id || '-' || to_char(day, 'YYYYMMDD') || '-' || r.category || '-' || r.destination,
                  '', now(), d.id
           FROM geo_district d
           CROSS JOIN generate_series(%s::date, current_date - 1, interval '1 day') day
           CROSS JOIN (VALUES ('recyclable', 'recycling', 4000), ('kitchen', 'composting', 6000),
                              ('other', 'landfill', 9000), ('other', 'incineration', 7000)) r(category, destination, base)""",
        [YEAR_START],
    )


# ---- events: written against the sorting and kiosks tables (see events() and burst()) -----------
from events import burst, events  # noqa: E402, F401
