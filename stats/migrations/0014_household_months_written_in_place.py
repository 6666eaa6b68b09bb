"""A household's month drops the index led by district, which also held its days: the only read it
served (households by community over several years) goes through the communities' key, and the day
a round ORs into a month becomes a heap-only update, with room kept on the table's pages for it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0013_rollup_indexes_led_by_keys"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="householdmonth",
            name="household_month_district",
        ),
        migrations.RunSQL(
            "ALTER TABLE stats_householdmonth SET (fillfactor = 80)",
            "ALTER TABLE stats_householdmonth RESET (fillfactor)",
        ),
    ]
