from django.db import migrations

SYSTEM_KINDS = ["issuance", "redemption", "expiry", "adjustment"]


def create(apps, schema_editor):
    account = apps.get_model("rewards", "Account")
    for kind in SYSTEM_KINDS:
        account.objects.get_or_create(kind=kind, owner=None)


class Migration(migrations.Migration):
    dependencies = [("rewards", "0005_ledger_guards")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
