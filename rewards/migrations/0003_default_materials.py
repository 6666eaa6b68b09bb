from django.db import migrations


def load(apps, schema_editor):
    from rewards.fixtures_data import load_default_materials

    load_default_materials(apps.get_model("rewards", "Material"))


class Migration(migrations.Migration):
    dependencies = [("rewards", "0002_materials_and_rules")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
