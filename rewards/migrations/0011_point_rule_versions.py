# Point rules become versions: each row starts at `effective_from` and is never edited or deleted, so a
# rule change cannot reach back into drops and deposits already made. Existing rows are version 1,
# in force from the epoch.
import django.db.models.deletion
from django.db import migrations, models

import rewards.models

REFUSE_CHANGES = """
CREATE FUNCTION rewards_pointrules_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'point rules versions are never edited or deleted; add a new version'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER rewards_pointrules_append_only BEFORE UPDATE OR DELETE ON rewards_pointrules
    FOR EACH ROW EXECUTE FUNCTION rewards_pointrules_refuse_change();
"""

ALLOW_CHANGES = """
DROP TRIGGER IF EXISTS rewards_pointrules_append_only ON rewards_pointrules;
DROP FUNCTION IF EXISTS rewards_pointrules_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0002_xuchang"),
        ("rewards", "0010_household_daily_cap"),
    ]

    operations = [
        migrations.AlterField(
            model_name="pointrules",
            name="city",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="point_rule_versions", to="geo.city"
            ),
        ),
        migrations.AddField(
            model_name="pointrules",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="pointrules",
            name="effective_from",
            field=models.DateTimeField(default=rewards.models.rules_epoch),
        ),
        migrations.RenameField(model_name="pointrules", old_name="updated_at", new_name="created_at"),
        migrations.AlterField(
            model_name="pointrules",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AlterModelOptions(name="pointrules", options={"ordering": ["city_id", "effective_from"]}),
        migrations.AddConstraint(
            model_name="pointrules",
            constraint=models.UniqueConstraint(fields=("city", "version"), name="point_rules_version_once"),
        ),
        migrations.AddConstraint(
            model_name="pointrules",
            constraint=models.UniqueConstraint(fields=("city", "effective_from"), name="point_rules_start_once"),
        ),
        migrations.RunSQL(REFUSE_CHANGES, ALLOW_CHANGES),
    ]
