"""PostgreSQL itself refuses to change or remove an audit row, whoever connects: the trail is
evidence, so no code path, admin action or hand-typed SQL may edit it. TRUNCATE stays possible,
as on the ledger's guarded tables: only the table owner may issue it, and test databases are
emptied with it between transactional tests."""

from django.db import migrations

SQL = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_entry_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS audit_entry_no_update_delete ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_entry")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
