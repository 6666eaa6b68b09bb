# The idempotency key stays unique, now through a named constraint: `unique=True` on a CharField also
# gives PostgreSQL a second, LIKE-pattern index that no query reads and every credit writes. The
# existing unique index is renamed rather than rebuilt, so the ledger is never without it nor locked
# for a build.
from django.db import migrations, models

FORWARD = """
DROP INDEX IF EXISTS rewards_ledgertransaction_idempotency_key_264dd4dc_like;
ALTER TABLE rewards_ledgertransaction
    RENAME CONSTRAINT rewards_ledgertransaction_idempotency_key_key TO ledger_transaction_once;
"""

BACKWARD = """
ALTER TABLE rewards_ledgertransaction
    RENAME CONSTRAINT ledger_transaction_once TO rewards_ledgertransaction_idempotency_key_key;
CREATE INDEX rewards_ledgertransaction_idempotency_key_264dd4dc_like
    ON rewards_ledgertransaction (idempotency_key varchar_pattern_ops);
"""


class Migration(migrations.Migration):
    dependencies = [("rewards", "0013_posting_without_account_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.AlterField(
                    model_name="ledgertransaction",
                    name="idempotency_key",
                    field=models.CharField(max_length=200),
                ),
                migrations.AddConstraint(
                    model_name="ledgertransaction",
                    constraint=models.UniqueConstraint(fields=("idempotency_key",), name="ledger_transaction_once"),
                ),
            ],
        )
    ]
