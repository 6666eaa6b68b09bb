-- The SQL one deposit sends, statement for statement (see kiosks.services and rewards.ledger),
-- for kiosk :k and its resident; ids follow the layout run.py creates.
\set k random(1, :kiosks)
\set resident :k + :resident_offset
SELECT k.id, k.enabled, k.secret_version, ARRAY(SELECT material_id FROM kiosks_kiosk_materials WHERE kiosk_id = k.id) FROM kiosks_kiosk k JOIN geo_community c ON c.id = k.community_id JOIN geo_district d ON d.id = c.district_id WHERE k.id = :k;
INSERT INTO kiosks_kiosknonce (kiosk_id, nonce, seen_at) VALUES (:k, md5(random()::text), now()) ON CONFLICT (kiosk_id, nonce) DO NOTHING RETURNING id;
SELECT fingerprint, response FROM kiosks_deposit WHERE kiosk_id = :k AND deposit_id = (SELECT gen_random_uuid());
SELECT id, household_id FROM accounts_user WHERE id = :resident AND role = 'resident' AND is_active;
BEGIN;
INSERT INTO kiosks_deposit (kiosk_id, deposit_id, resident_id, household_id, community_id, session_id, material_id, weight_g, count, occurred_at, received_at, points_awarded, fingerprint, response) SELECT :k, gen_random_uuid(), u.id, u.household_id, k.community_id, NULL, 1, 2500, NULL, now(), now(), 0, md5(random()::text), '{}' FROM accounts_user u, kiosks_kiosk k WHERE u.id = :resident AND k.id = :k ON CONFLICT (kiosk_id, deposit_id) DO NOTHING RETURNING id \gset dep_
INSERT INTO kiosks_dailypoints (subject, subject_id, day, points) VALUES ('kiosk', :k, current_date, 0), ('resident', :resident, current_date, 0) ON CONFLICT (subject, subject_id, day) DO UPDATE SET points = kiosks_dailypoints.points RETURNING subject, points;
UPDATE kiosks_dailypoints SET points = points + 50 WHERE day = current_date AND ((subject = 'kiosk' AND subject_id = :k) OR (subject = 'resident' AND subject_id = :resident));
INSERT INTO rewards_account (kind, owner_id, balance, created_at) VALUES ('resident', :resident, 0, now()) ON CONFLICT (owner_id) DO UPDATE SET balance = rewards_account.balance RETURNING id AS acct_id, balance \gset
WITH claimed AS (INSERT INTO rewards_ledgertransaction (idempotency_key, kind, memo, reverses_id, created_at) VALUES ('pgbench:' || gen_random_uuid(), 'deposit', 'bench', NULL, now()) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id), moved AS (UPDATE rewards_account SET balance = balance + 50 WHERE id = :acct_id AND balance + 50 >= 0 AND EXISTS (SELECT 1 FROM claimed) RETURNING balance), posted AS (INSERT INTO rewards_posting (transaction_id, account_id, amount, created_at) SELECT claimed.id, leg.account_id, leg.amount, now() FROM claimed, moved, (VALUES (:acct_id::bigint, 50::bigint), ((SELECT id FROM rewards_account WHERE kind = 'issuance' AND owner_id IS NULL), -50::bigint)) AS leg (account_id, amount) RETURNING 1) SELECT (SELECT id FROM claimed), (SELECT balance FROM moved), (SELECT count(*) FROM posted);
UPDATE kiosks_deposit SET points_awarded = 50, response = '{"deposit_id": "x", "points_awarded": 50, "balance": 1}' WHERE id = :dep_id;
COMMIT;
