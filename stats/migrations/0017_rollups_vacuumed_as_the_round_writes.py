"""Rollups that reads scan through their indexes alone are vacuumed after 2 % of their rows changed,
not PostgreSQL's default 20 %.

An index-only scan reads the table's page too for every page changed since the last vacuum. The
round rewrites these tables all day: after a dozen rounds on a city's year, a clipped period's read of
the participation steps went to the table for 14,362 of its 27,736 rows (20.8 ms; 13.5 ms after a
VACUUM), and at the default scale factor autovacuum waits for 47,000 changed rows of that table.
"""

from django.db import migrations

TABLES = (
    "stats_participationstep",
    "stats_participationcount",
    "stats_communitydaily",
    "stats_dropdaily",
    "stats_depositdaily",
    "stats_communitydepositmonthly",
    "stats_householdmonth",
    "stats_householdyear",
)
SETTINGS = ("autovacuum_vacuum_scale_factor", "autovacuum_vacuum_insert_scale_factor")


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0016_community_deposit_monthly"),
    ]

    operations = [
        migrations.RunSQL(
            [
                f"ALTER TABLE {table} SET ({', '.join(f'{name} = 0.02' for name in SETTINGS)})"
                for table in TABLES
            ],
            [f"ALTER TABLE {table} RESET ({', '.join(SETTINGS)})" for table in TABLES],
        ),
    ]
