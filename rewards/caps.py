"""The household's daily cap, shared by every channel that earns points (kiosks and sorting).

Lock order: callers lock their own running totals (a kiosk's, a resident's) first, then the
household's day row here, then the resident's points account (`credit`); drops lock the household's
day row before the account too, so no two channels ever wait on each other in a circle.
"""

from datetime import date

from django.db import connection


def household_room(*, household_id: int | None, day: date, cap: int) -> int | None:
    """Points the household may still earn on `day`, its day row locked until the transaction ends.

    None for a resident without a household: there is no household cap to apply.
    """
    if household_id is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rewards_householddailypoints (household_id, day, points) VALUES (%s, %s, 0) "
            "ON CONFLICT (household_id, day) DO UPDATE SET points = rewards_householddailypoints.points "
            "RETURNING points",
            [household_id, day],
        )
        (points,) = cursor.fetchone()
    return max(0, cap - points)


def spend_household_room(*, household_id: int | None, day: date, points: int) -> None:
    """Count points granted under `household_room` in the same transaction."""
    if household_id is None or points <= 0:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rewards_householddailypoints SET points = points + %s WHERE household_id = %s AND day = %s",
            [points, household_id, day],
        )
