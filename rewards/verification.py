"""Every invariant of the ledger and the catalog, checked against the database.

`find_violations()` returns human-readable findings (empty when all is well); `manage.py
verify_ledger` prints them and exits non-zero, and the tests call it after every concurrency test.
"""

from django.db import connection

CHECKS = {
    "unbalanced transaction": """
        SELECT t.id, coalesce(sum(p.amount), 0), count(p.id)
        FROM rewards_ledgertransaction t LEFT JOIN rewards_posting p ON p.transaction_id = t.id
        GROUP BY t.id HAVING coalesce(sum(p.amount), 0) <> 0 OR count(p.id) < 2
    """,
    "resident balance differs from its postings": """
        SELECT a.id, a.balance, coalesce(sum(p.amount), 0)
        FROM rewards_account a LEFT JOIN rewards_posting p ON p.account_id = a.id
        WHERE a.kind = 'resident' GROUP BY a.id HAVING a.balance <> coalesce(sum(p.amount), 0)
    """,
    "negative resident balance": "SELECT id, balance FROM rewards_account WHERE kind = 'resident' AND balance < 0",
    "all balances do not sum to zero": """
        SELECT total FROM (SELECT coalesce(sum(amount), 0) AS total FROM rewards_posting) s WHERE total <> 0
    """,
    "stock not conserved": """
        SELECT r.id, r.stock, r.total_stock, coalesce(sum(d.quantity), 0)
        FROM rewards_reward r LEFT JOIN rewards_redemption d
            ON d.reward_id = r.id AND d.status IN ('issued', 'fulfilled')
        GROUP BY r.id HAVING r.stock + coalesce(sum(d.quantity), 0) <> r.total_stock
    """,
    "redemption without exactly one voucher": """
        SELECT id FROM rewards_redemption WHERE voucher_code IS NULL
    """,
    "redemption whose points were not spent exactly once": """
        SELECT d.id, d.points_spent, coalesce(sum(p.amount), 0)
        FROM rewards_redemption d
        LEFT JOIN rewards_ledgertransaction t ON t.idempotency_key = 'redeem:' || d.id
        LEFT JOIN rewards_posting p ON p.transaction_id = t.id AND p.amount < 0
        GROUP BY d.id HAVING coalesce(sum(p.amount), 0) <> -d.points_spent
    """,
    "closed redemption not refunded exactly once (or open one refunded)": """
        SELECT d.id, d.status, count(t.id)
        FROM rewards_redemption d
        LEFT JOIN rewards_ledgertransaction t
            ON t.idempotency_key IN ('cancel:' || d.id, 'expire:' || d.id)
        GROUP BY d.id, d.status
        HAVING count(t.id) <> CASE WHEN d.status IN ('cancelled', 'expired') THEN 1 ELSE 0 END
    """,
    "points spent without a voucher": """
        SELECT t.id, t.idempotency_key FROM rewards_ledgertransaction t
        WHERE t.kind = 'redeem' AND NOT EXISTS (
            SELECT 1 FROM rewards_redemption d WHERE t.idempotency_key = 'redeem:' || d.id
        )
    """,
}


def find_violations() -> list[str]:
    findings = []
    with connection.cursor() as cursor:
        for name, sql in CHECKS.items():
            cursor.execute(sql)
            findings.extend(f"{name}: {row}" for row in cursor.fetchmany(20))
    return findings
