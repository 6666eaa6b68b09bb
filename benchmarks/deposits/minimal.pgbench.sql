-- The least a deposit must do in PostgreSQL: the deposit row (ON CONFLICT for exactly-once), one
-- ledger transaction, its two postings, the resident's balance, one commit. The ceiling the HTTP
-- path is compared against.
\set k random(1, :kiosks)
\set resident :k + :resident_offset
BEGIN;
INSERT INTO kiosks_deposit (kiosk_id, deposit_id, resident_id, household_id, community_id, session_id, material_id, weight_g, count, occurred_at, received_at, points_awarded, fingerprint, response) SELECT :k, gen_random_uuid(), u.id, u.household_id, k.community_id, NULL, 1, 2500, NULL, now(), now(), 50, md5(random()::text), '{}' FROM accounts_user u, kiosks_kiosk k WHERE u.id = :resident AND k.id = :k ON CONFLICT (kiosk_id, deposit_id) DO NOTHING;
INSERT INTO rewards_ledgertransaction (idempotency_key, kind, memo, reverses_id, created_at) VALUES ('pgbench-min:' || gen_random_uuid(), 'deposit', 'bench', NULL, now()) RETURNING id AS tx_id \gset
INSERT INTO rewards_account (kind, owner_id, balance, created_at) VALUES ('resident', :resident, 50, now()) ON CONFLICT (owner_id) DO UPDATE SET balance = rewards_account.balance + 50 RETURNING id AS acct_id \gset
INSERT INTO rewards_posting (transaction_id, account_id, amount, created_at) VALUES (:tx_id, :acct_id, 50, now()), (:tx_id, (SELECT id FROM rewards_account WHERE kind = 'issuance' AND owner_id IS NULL), -50, now());
COMMIT;
