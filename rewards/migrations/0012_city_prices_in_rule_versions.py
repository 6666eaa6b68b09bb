# Material prices and the carbon-points rule join the versioned point rules of each city, so a price
# change is a new version like any other rule change and never re-rates a deposit made before it.
# Existing versions take the reference prices and the city's carbon rule as they stand: the only time
# a version row is written after its creation, which is why the append-only trigger is paused here.
import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
ALTER TABLE rewards_pointrules DISABLE TRIGGER rewards_pointrules_append_only;
UPDATE rewards_pointrules AS rules SET
    material_prices = COALESCE(
        (SELECT jsonb_object_agg(code, points_per_kg) FROM rewards_material WHERE active), '{}'::jsonb
    ),
    carbon_points_enabled = COALESCE(carbon.enabled, false),
    points_per_kg_co2e = COALESCE(carbon.points_per_kg_co2e, 10)
FROM (SELECT id FROM geo_city) AS city
LEFT JOIN rewards_carbonpointrule AS carbon ON carbon.city_id = city.id
WHERE rules.city_id = city.id;
ALTER TABLE rewards_pointrules ENABLE TRIGGER rewards_pointrules_append_only;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0002_xuchang"),
        ("rewards", "0011_point_rule_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="material",
            name="city",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="own_materials",
                to="geo.city",
            ),
        ),
        migrations.AddField(
            model_name="pointrules",
            name="material_prices",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="pointrules",
            name="carbon_points_enabled",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="pointrules",
            name="points_per_kg_co2e",
            field=models.PositiveIntegerField(default=10),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.DeleteModel(name="CarbonPointRule"),
    ]
