from django.db import migrations


def load(apps, schema_editor):
    from geo.reference import load_xuchang

    load_xuchang(apps.get_model("geo", "City"), apps.get_model("geo", "District"))


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
