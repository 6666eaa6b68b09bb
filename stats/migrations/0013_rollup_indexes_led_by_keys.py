"""Rollups the refresh rewrites every round lose the indexes another key or index already leads with,
and a household's year keeps room on its page, so the day a round ORs in is a heap-only update that
writes none of the table's indexes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0002_xuchang"),
        ("stats", "0012_deposit_daily_by_material"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="depositdaily",
            name="deposit_daily_district_day",
        ),
        migrations.AlterField(
            model_name="communitydaily",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="depositdaily",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="districtday",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="districtdepositdaily",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="districtdropdaily",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="districtindicatorday",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="dropdaily",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="householdmonth",
            name="community",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.community",
            ),
        ),
        migrations.AlterField(
            model_name="householdmonth",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="householdyear",
            name="community",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.community",
            ),
        ),
        migrations.AlterField(
            model_name="householdyear",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="participationcount",
            name="community",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.community",
            ),
        ),
        migrations.AlterField(
            model_name="participationcount",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.AlterField(
            model_name="participationstep",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="geo.district",
            ),
        ),
        migrations.RunSQL(
            "ALTER TABLE stats_householdyear SET (fillfactor = 80)",
            "ALTER TABLE stats_householdyear RESET (fillfactor)",
        ),
    ]
