# Foreign keys checked on every deposit against rows that every deposit shares: a deposit's community
# (all kiosks of that community) and material (the whole city), and a signed request's nonce (its
# kiosk). Each check share-locked the one referenced row. The references stay, without the database
# constraint; Django's PROTECT and CASCADE still apply when those rows are deleted (kiosks.models).
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0002_xuchang"),
        ("kiosks", "0012_grant_counts_each_total_once"),
        ("rewards", "0014_idempotency_key_without_like_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deposit",
            name="community",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="geo.community",
            ),
        ),
        migrations.AlterField(
            model_name="deposit",
            name="material",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="rewards.material",
            ),
        ),
        migrations.AlterField(
            model_name="kiosknonce",
            name="kiosk",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="kiosks.kiosk",
            ),
        ),
    ]
