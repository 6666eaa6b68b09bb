# A deposit's caps in one round trip: the kiosk's, the resident's and the household's running totals
# for the day are created or row-locked (in that order, the lock order every channel keeps), the points
# that fit under all three are counted on each, and the grant is returned. Four statements became one.
from django.db import migrations

GRANT = """
CREATE FUNCTION kiosks_grant_deposit_points(
    p_kiosk bigint, p_resident bigint, p_household bigint, p_day date, p_raw bigint,
    p_kiosk_cap bigint, p_resident_cap bigint, p_household_cap bigint
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_kiosk bigint;
    v_resident bigint;
    v_household bigint;
    v_points bigint;
BEGIN
    IF p_raw <= 0 THEN
        RETURN 0;
    END IF;
    INSERT INTO kiosks_dailypoints (subject, subject_id, day, points) VALUES ('kiosk', p_kiosk, p_day, 0)
        ON CONFLICT (subject, subject_id, day) DO UPDATE SET points = kiosks_dailypoints.points
        RETURNING points INTO v_kiosk;
    INSERT INTO kiosks_dailypoints (subject, subject_id, day, points) VALUES ('resident', p_resident, p_day, 0)
        ON CONFLICT (subject, subject_id, day) DO UPDATE SET points = kiosks_dailypoints.points
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

DROP = "DROP FUNCTION IF EXISTS kiosks_grant_deposit_points(bigint, bigint, bigint, date, bigint, bigint, bigint, bigint);"


class Migration(migrations.Migration):
    dependencies = [
        ("kiosks", "0006_deposit_statistics_indexes"),
        ("rewards", "0012_city_prices_in_rule_versions"),
    ]

    operations = [migrations.RunSQL(GRANT, DROP)]
