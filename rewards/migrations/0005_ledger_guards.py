"""Database guards of the ledger, so no code path (nor a hand-typed SQL session) can bend it:
postings and transactions are append-only, and a transaction whose postings do not sum to zero, or
that has fewer than two postings, cannot commit."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION rewards_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON rewards_posting
    FOR EACH ROW EXECUTE FUNCTION rewards_append_only();
CREATE TRIGGER transaction_append_only BEFORE UPDATE OR DELETE ON rewards_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION rewards_append_only();

CREATE FUNCTION rewards_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txid bigint;
    total numeric;
    legs integer;
BEGIN
    -- Field names differ by table; each branch is planned only when it runs.
    IF TG_ARGV[0] = 'posting' THEN
        txid := NEW.transaction_id;
    ELSE
        txid := NEW.id;
    END IF;
    SELECT coalesce(sum(amount), 0), count(*) INTO total, legs FROM rewards_posting WHERE transaction_id = txid;
    IF total <> 0 OR legs < 2 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced (sum %, % postings)', txid, total, legs
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER posting_balanced AFTER INSERT ON rewards_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rewards_transaction_balanced('posting');
CREATE CONSTRAINT TRIGGER transaction_has_postings AFTER INSERT ON rewards_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rewards_transaction_balanced('transaction');
"""

BACKWARD = """
DROP TRIGGER transaction_has_postings ON rewards_ledgertransaction;
DROP TRIGGER posting_balanced ON rewards_posting;
DROP FUNCTION rewards_transaction_balanced();
DROP TRIGGER transaction_append_only ON rewards_ledgertransaction;
DROP TRIGGER posting_append_only ON rewards_posting;
DROP FUNCTION rewards_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("rewards", "0004_catalog_and_redemptions")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
