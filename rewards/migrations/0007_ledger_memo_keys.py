# A memo is kept as a key and its values as well as its text, so each reader sees it in their language.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rewards", "0006_system_accounts")]

    operations = [
        migrations.AddField("ledgertransaction", "memo_key", models.CharField(blank=True, db_default="", max_length=40)),
        migrations.AddField("ledgertransaction", "memo_params", models.JSONField(blank=True, null=True)),
    ]
