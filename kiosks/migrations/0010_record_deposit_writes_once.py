# The deposit function writes less per deposit (kiosks 0008 describes the call as a whole):
# - the deposit row is inserted once, last, with its points and its answer, instead of inserted first
#   and updated at the end. Exactly once still holds: a retry is answered from the row before any lock,
#   and a concurrent duplicate (which names the same resident) waits on that resident's row lock and
#   then finds the row the first one committed;
# - the resident's account is created or credited in one write instead of locked and then updated, and
#   a deposit that earns nothing (over a cap) only reads the balance.
from django.db import migrations

RECORD = """
CREATE OR REPLACE FUNCTION kiosks_record_deposit(
    p_nonce text, p_kiosk bigint, p_deposit uuid, p_fingerprint text, p_refusal text,
    p_session uuid, p_resident_public uuid, p_tolerance interval, p_session_window interval,
    p_community bigint, p_material bigint, p_weight bigint, p_count bigint,
    p_occurred_at timestamptz, p_received_at timestamptz, p_merge_window interval,
    p_award_numerator bigint, p_award_denominator bigint, p_day date,
    p_kiosk_cap bigint, p_resident_cap bigint, p_household_cap bigint, p_backdated_bound bigint,
    p_cause text, p_memo text, p_memo_key text, p_memo_params jsonb,
    OUT created boolean, OUT response jsonb, OUT resident_id bigint, OUT household_id bigint,
    OUT points bigint, OUT balance bigint, OUT transaction_id bigint
) LANGUAGE plpgsql AS $$
DECLARE
    v_fingerprint text;
    v_session_created timestamptz;
    v_claimed timestamptz;
    v_closed timestamptz;
    v_usable_until timestamptz;
    v_bag_started timestamptz;
    v_bag_before bigint := 0;
    v_award bigint;
    v_earned_before bigint := 0;
    v_account bigint;
    v_postings bigint;
BEGIN
    IF p_nonce IS NOT NULL THEN
        INSERT INTO kiosks_kiosknonce (kiosk_id, nonce, seen_at) VALUES (p_kiosk, p_nonce, p_received_at)
            ON CONFLICT (kiosk_id, nonce) DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'kiosk_deposit:nonce_reused';
        END IF;
    END IF;

    SELECT d.fingerprint, d.response INTO v_fingerprint, response
        FROM kiosks_deposit d WHERE d.kiosk_id = p_kiosk AND d.deposit_id = p_deposit;
    IF FOUND THEN
        IF v_fingerprint <> p_fingerprint THEN
            RAISE EXCEPTION 'kiosk_deposit:idempotency_conflict';
        END IF;
        created := false;
        RETURN;
    END IF;
    IF p_refusal IS NOT NULL THEN
        RAISE EXCEPTION 'kiosk_deposit:%', p_refusal;
    END IF;

    -- The resident's row first (their bags and household are read under it): the lock order of
    -- kiosks.services.
    IF p_session IS NOT NULL THEN
        SELECT s.created_at, s.claimed_at, s.closed_at, u.id, u.household_id
            INTO v_session_created, v_claimed, v_closed, resident_id, household_id
            FROM kiosks_kiosksession s JOIN accounts_user u ON u.id = s.resident_id
            WHERE s.id = p_session AND s.kiosk_id = p_kiosk FOR NO KEY UPDATE OF u;
        IF NOT FOUND THEN
            SELECT s.created_at INTO v_session_created
                FROM kiosks_kiosksession s WHERE s.id = p_session AND s.kiosk_id = p_kiosk;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'kiosk_deposit:session_not_found';
            END IF;
        END IF;
        IF p_occurred_at < v_session_created - p_tolerance THEN
            RAISE EXCEPTION 'kiosk_deposit:before_session_opened';
        END IF;
        v_usable_until := COALESCE(v_claimed, p_occurred_at) + p_session_window;
        IF v_closed IS NOT NULL THEN
            v_usable_until := LEAST(v_usable_until, v_closed);
        END IF;
        IF resident_id IS NULL OR p_occurred_at > v_usable_until THEN
            RAISE EXCEPTION 'kiosk_deposit:session_closed';
        END IF;
    ELSE
        SELECT u.id, u.household_id INTO resident_id, household_id
            FROM accounts_user u
            WHERE u.public_id = p_resident_public AND u.role = 'resident' AND u.is_active
            FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'kiosk_deposit:invalid_code';
        END IF;
    END IF;

    -- A concurrent duplicate names the same resident, so it waited on that lock and committed first:
    -- answered as its retry. The deposit row itself is written last, with its answer.
    SELECT d.fingerprint, d.response INTO v_fingerprint, response
        FROM kiosks_deposit d WHERE d.kiosk_id = p_kiosk AND d.deposit_id = p_deposit;
    IF FOUND THEN
        IF v_fingerprint <> p_fingerprint THEN
            RAISE EXCEPTION 'kiosk_deposit:idempotency_conflict';
        END IF;
        created := false;
        resident_id := NULL;
        household_id := NULL;
        RETURN;
    END IF;

    -- The bag this deposit joins: one material by one resident within the merge window of its first.
    SELECT d.bag_started_at, COALESCE(d.bag_weight_g, 0) INTO v_bag_started, v_bag_before
        FROM kiosks_deposit d WHERE d.resident_id = kiosks_record_deposit.resident_id
            AND d.material_id = p_material
        ORDER BY d.id DESC LIMIT 1;
    IF NOT FOUND OR v_bag_started IS NULL
            OR NOT (p_occurred_at - p_merge_window <= v_bag_started AND v_bag_started <= p_occurred_at) THEN
        v_bag_started := p_occurred_at;
        v_bag_before := 0;
    END IF;

    -- The whole bag's points less what its earlier deposits earned, each rounded down once.
    v_award := (v_bag_before + p_weight) * p_award_numerator / p_award_denominator;
    IF v_bag_before > 0 THEN
        v_earned_before := v_bag_before * p_award_numerator / p_award_denominator;
    END IF;
    points := kiosks_grant_deposit_points(
        p_kiosk, resident_id, household_id, p_day, GREATEST(v_award - v_earned_before, 0),
        p_kiosk_cap, p_resident_cap, p_household_cap
    );
    IF points > 0 AND p_backdated_bound IS NOT NULL AND points > p_backdated_bound THEN
        RAISE EXCEPTION 'kiosk_deposit:backdated_over_bound';
    END IF;

    IF points > 0 THEN
        INSERT INTO rewards_ledgertransaction
                (idempotency_key, kind, memo, memo_key, memo_params, reverses_id, created_at)
            VALUES (p_cause, 'deposit', p_memo, p_memo_key, p_memo_params, NULL, now())
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id INTO transaction_id;
        IF transaction_id IS NULL THEN
            RAISE EXCEPTION 'kiosk_deposit:ledger_unavailable';
        END IF;
        -- The resident's account, created on first use and row-locked until commit (rewards.ledger),
        -- credited in the same write.
        INSERT INTO rewards_account (kind, owner_id, balance, created_at)
            VALUES ('resident', resident_id, points, now())
            ON CONFLICT (owner_id) DO UPDATE SET balance = rewards_account.balance + EXCLUDED.balance
            RETURNING id, rewards_account.balance INTO v_account, balance;
        INSERT INTO rewards_posting (transaction_id, account_id, amount, created_at)
            SELECT transaction_id, leg.account_id, leg.amount, now()
            FROM (VALUES
                (v_account, points),
                ((SELECT a.id FROM rewards_account a WHERE a.kind = 'issuance' AND a.owner_id IS NULL), -points)
            ) AS leg (account_id, amount);
        GET DIAGNOSTICS v_postings = ROW_COUNT;
        IF v_postings <> 2 THEN
            RAISE EXCEPTION 'kiosk_deposit:ledger_unavailable';
        END IF;
    ELSE
        SELECT a.balance INTO balance FROM rewards_account a WHERE a.owner_id = resident_id;
        balance := COALESCE(balance, 0);
    END IF;

    response := jsonb_build_object('deposit_id', p_deposit::text, 'points_awarded', points, 'balance', balance);
    INSERT INTO kiosks_deposit (kiosk_id, deposit_id, resident_id, household_id, community_id, session_id,
            material_id, weight_g, count, occurred_at, received_at, points_awarded, fingerprint, response,
            bag_started_at, bag_weight_g)
        VALUES (p_kiosk, p_deposit, resident_id, household_id, p_community, p_session, p_material, p_weight,
            p_count, p_occurred_at, p_received_at, points, p_fingerprint, response, v_bag_started,
            v_bag_before + p_weight)
        ON CONFLICT (kiosk_id, deposit_id) DO NOTHING;
    IF NOT FOUND THEN
        -- Only a request of another body under the same id, for another resident, gets here: the same
        -- body names the same resident and was answered above. Everything this call wrote goes.
        RAISE EXCEPTION 'kiosk_deposit:idempotency_conflict';
    END IF;
    created := true;
END $$;
"""


def _previous() -> str:
    from importlib import import_module

    return import_module("kiosks.migrations.0008_record_deposit").RECORD.replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    )


class Migration(migrations.Migration):
    dependencies = [("kiosks", "0009_deposit_indexes_a_query_reads")]

    operations = [migrations.RunSQL(RECORD, _previous())]
