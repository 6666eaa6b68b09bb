# A deposit's caps with one write per running total (migration 0007 wrote each twice): when the whole
# grant fits under every cap, the kiosk's and the resident's day rows are created or counted by one
# statement and the household's by another, each row-locked by that write in the lock order of 0007
# (kiosk, resident, household). The cap is part of the write, so a concurrent grant that waited on the
# row is judged against the total it waited for. Only when a cap leaves less room than the grant are
# those counts undone (the rows stay locked) and the grant is cut down as in 0007.
from django.db import migrations

GRANT = """
CREATE OR REPLACE FUNCTION kiosks_grant_deposit_points(
    p_kiosk bigint, p_resident bigint, p_household bigint, p_day date, p_raw bigint,
    p_kiosk_cap bigint, p_resident_cap bigint, p_household_cap bigint
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_counted text[];
    v_kiosk bigint;
    v_resident bigint;
    v_household bigint;
    v_points bigint;
BEGIN
    IF p_raw <= 0 THEN
        RETURN 0;
    END IF;
    -- A NULL cap is no cap, as LEAST below treats it.
    WITH counted AS (
        INSERT INTO kiosks_dailypoints AS total (subject, subject_id, day, points)
            SELECT leg.subject, leg.subject_id, p_day, p_raw
            FROM (VALUES ('kiosk', p_kiosk, p_kiosk_cap), ('resident', p_resident, p_resident_cap))
                AS leg (subject, subject_id, cap)
            WHERE leg.cap IS NULL OR p_raw <= leg.cap
            ON CONFLICT (subject, subject_id, day) DO UPDATE SET points = total.points + EXCLUDED.points
                WHERE total.points + EXCLUDED.points <= COALESCE(
                    CASE total.subject WHEN 'kiosk' THEN p_kiosk_cap ELSE p_resident_cap END,
                    total.points + EXCLUDED.points)
            RETURNING total.subject
    ) SELECT array_agg(counted.subject) INTO v_counted FROM counted;
    IF cardinality(v_counted) = 2 THEN
        IF p_household IS NULL THEN
            RETURN p_raw;
        END IF;
        INSERT INTO rewards_householddailypoints AS total (household_id, day, points)
            SELECT p_household, p_day, p_raw WHERE p_household_cap IS NULL OR p_raw <= p_household_cap
            ON CONFLICT (household_id, day) DO UPDATE SET points = total.points + EXCLUDED.points
                WHERE total.points + EXCLUDED.points <= COALESCE(p_household_cap, total.points + EXCLUDED.points);
        IF FOUND THEN
            RETURN p_raw;
        END IF;
    END IF;

    -- A cap leaves less room than the whole grant: take back what was counted above, then grant what
    -- fits under all three.
    INSERT INTO kiosks_dailypoints AS total (subject, subject_id, day, points) VALUES ('kiosk', p_kiosk, p_day, 0)
        ON CONFLICT (subject, subject_id, day) DO UPDATE
            SET points = total.points - CASE WHEN 'kiosk' = ANY (v_counted) THEN p_raw ELSE 0 END
        RETURNING points INTO v_kiosk;
    INSERT INTO kiosks_dailypoints AS total (subject, subject_id, day, points) VALUES ('resident', p_resident, p_day, 0)
        ON CONFLICT (subject, subject_id, day) DO UPDATE
            SET points = total.points - CASE WHEN 'resident' = ANY (v_counted) THEN p_raw ELSE 0 END
        RETURNING points INTO v_resident;
    v_points := LEAST(p_raw, p_kiosk_cap - v_kiosk, p_resident_cap - v_resident);
    IF p_household IS NOT NULL THEN
        INSERT INTO rewards_householddailypoints (household_id, day, points) VALUES (p_household, p_day, 0)
            ON CONFLICT (household_id, day) DO UPDATE SET points = rewards_householddailypoints.points
            RETURNING points INTO v_household;
        v_points := LEAST(v_points, p_household_cap - v_household);
    END IF;
    -- A cap lowered below what was already earned leaves no room, never a negative grant.
    v_points := GREATEST(v_points, 0);
    IF v_points > 0 THEN
        UPDATE kiosks_dailypoints SET points = points + v_points
            WHERE day = p_day AND ((subject = 'kiosk' AND subject_id = p_kiosk)
                OR (subject = 'resident' AND subject_id = p_resident));
        IF p_household IS NOT NULL THEN
            UPDATE rewards_householddailypoints SET points = points + v_points
                WHERE household_id = p_household AND day = p_day;
        END IF;
    END IF;
    RETURN v_points;
END $$;
"""


def _previous() -> str:
    from importlib import import_module

    return import_module("kiosks.migrations.0007_grant_deposit_points").GRANT.replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    )


class Migration(migrations.Migration):
    dependencies = [("kiosks", "0011_nonce_without_kiosk_index")]

    operations = [migrations.RunSQL(GRANT, _previous())]
