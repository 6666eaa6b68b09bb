"""Backfill of the mass balance: what kiosks weighed before pickups were recorded keeps its meaning.

Until now a kiosk deposit counted as received the moment it was weighed (recyclables as recycled,
hazardous items as handled). Indicators now count only what a destination received, so each
community's deposits of each day and category become one collection (source `backfill`: recyclables
to recycling, hazardous items to licensed treatment), and each kiosk gets one pickup that emptied
everything deposited so far, weighed exactly as deposited (no shrinkage is invented for the past).
The collection rollups are then recomputed from the collections.
"""

from django.db import migrations

STATS_TIME_ZONE = "Asia/Shanghai"
NOTE = "kiosk deposits before pickups were recorded"

BACKFILL_SQL = [
    (
        """INSERT INTO stats_collection (district_id, community_id, category, weight_g, date, destination, source,
                                          reference, note, created_at)
           SELECT c.district_id, d.community_id, m.category, sum(d.weight_g),
                  (d.occurred_at AT TIME ZONE %s)::date,
                  CASE WHEN m.category = 'hazardous' THEN 'hazardous_treatment' ELSE 'recycling' END,
                  'backfill', '', %s, now()
           FROM kiosks_deposit d
           JOIN rewards_material m ON m.id = d.material_id
           JOIN geo_community c ON c.id = d.community_id
           GROUP BY c.district_id, d.community_id, m.category, (d.occurred_at AT TIME ZONE %s)::date
           HAVING sum(d.weight_g) > 0""",
        [STATS_TIME_ZONE, NOTE, STATS_TIME_ZONE],
    ),
    (
        """INSERT INTO kiosks_pickup (kiosk_id, pickup_id, source, collected_at, covers_until, fingerprint, created_at)
           SELECT kiosk_id, gen_random_uuid(), 'backfill', max(occurred_at), max(occurred_at), '', now()
           FROM kiosks_deposit GROUP BY kiosk_id""",
        [],
    ),
    (
        """INSERT INTO kiosks_pickupline (pickup_id, material_id, weight_g, expected_g, flagged)
           SELECT p.id, d.material_id, sum(d.weight_g), sum(d.weight_g), false
           FROM kiosks_deposit d JOIN kiosks_pickup p ON p.kiosk_id = d.kiosk_id AND p.source = 'backfill'
           GROUP BY p.id, d.material_id""",
        [],
    ),
    ("DELETE FROM stats_collectiondaily", []),
    (
        """INSERT INTO stats_collectiondaily (day, district_id, community_id, category, destination, weight_g)
           SELECT date, district_id, community_id, category, destination, sum(weight_g)
           FROM stats_collection GROUP BY 1, 2, 3, 4, 5""",
        [],
    ),
    (
        """UPDATE stats_districtday SET collected_g = 0, collected_recovered_g = 0, incinerated_g = 0""",
        [],
    ),
    (
        """INSERT INTO stats_districtday (day, district_id, collected_g, collected_recovered_g, incinerated_g,
                                           deposited_g, deposit_recovered_g)
           SELECT date, district_id, sum(weight_g),
                  sum(CASE WHEN (category, destination) IN (('recyclable', 'recycling'), ('kitchen', 'composting'),
                                                            ('kitchen', 'anaerobic_digestion'))
                           THEN weight_g ELSE 0 END),
                  sum(CASE WHEN destination = 'incineration' THEN weight_g ELSE 0 END), 0, 0
           FROM stats_collection GROUP BY 1, 2
           ON CONFLICT (district_id, day) DO UPDATE SET
               collected_g = EXCLUDED.collected_g, collected_recovered_g = EXCLUDED.collected_recovered_g,
               incinerated_g = EXCLUDED.incinerated_g""",
        [],
    ),
]


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for sql, params in BACKFILL_SQL:
            cursor.execute(sql, params)


class Migration(migrations.Migration):
    dependencies = [
        ("kiosks", "0003_pickups"),
        ("stats", "0006_plants_and_receipts"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
