"""What the city owes: per shop, the vouchers it fulfilled in a period; for the city, the points
liability outstanding at a date, read from the ledger's postings rather than from balance columns,
so a past date is answered as it stood then."""

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from .errors import SettlementPeriodTooLong
from .models import Redemption, Shop

# Three calendar years: the longest a city's accounts settle over.
MAX_SETTLEMENT_DAYS = 3 * 366


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def checked_period(start: date, end: date) -> tuple[date, date]:
    if (end - start).days + 1 > MAX_SETTLEMENT_DAYS:
        raise SettlementPeriodTooLong()
    return start, end


def fulfilled_vouchers(shop: Shop, start: date, end: date):
    """The shop's fulfilled vouchers of the period (both days inclusive), oldest first."""
    start, end = checked_period(start, end)
    return (
        Redemption.objects.filter(
            reward__shop=shop,
            status=Redemption.Status.FULFILLED,
            fulfilled_at__gte=_day_start(start),
            fulfilled_at__lt=_day_start(end + timedelta(days=1)),
        )
        .select_related("reward")
        .order_by("fulfilled_at", "id")
    )


def settlement(shop: Shop, start: date, end: date) -> dict:
    vouchers = list(fulfilled_vouchers(shop, start, end))
    totals = {"vouchers": 0, "units": 0, "points": 0, "stated_value_fen": 0}
    by_reward: dict[int, dict] = {}
    for voucher in vouchers:
        value = voucher.quantity * voucher.reward.stated_value_fen
        row = by_reward.setdefault(
            voucher.reward_id,
            {
                "reward_id": voucher.reward_id,
                "reward": voucher.reward.name,
                "vouchers": 0,
                "units": 0,
                "points": 0,
                "stated_value_fen": 0,
            },
        )
        for target in (row, totals):
            target["vouchers"] += 1
            target["units"] += voucher.quantity
            target["points"] += voucher.points_spent
            target["stated_value_fen"] += value
    return {
        "shop_id": shop.pk,
        "shop": shop.name,
        "start": start,
        "end": end,
        "totals": totals,
        "rewards": sorted(by_reward.values(), key=lambda row: row["reward_id"]),
        "vouchers": vouchers,
    }


HELD_SQL = """
    SELECT coalesce(sum(p.amount), 0)
    FROM rewards_posting p
    JOIN rewards_account a ON a.id = p.account_id AND a.kind = 'resident'
    JOIN accounts_user u ON u.id = a.owner_id
    JOIN accounts_household h ON h.id = u.household_id
    JOIN geo_community c ON c.id = h.community_id
    JOIN geo_district d ON d.id = c.district_id
    WHERE d.city_id = %s AND p.created_at < %s
"""


def liability(city, as_of: date) -> dict:
    """At the end of `as_of`: points residents of the city hold, and points spent on vouchers that
    were issued and not yet fulfilled, cancelled or expired (the city still owes the reward)."""
    cutoff = _day_start(as_of + timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(HELD_SQL, [city.pk, cutoff])
        (held,) = cursor.fetchone()
    open_then = Q(status=Redemption.Status.ISSUED) | Q(fulfilled_at__gte=cutoff) | Q(closed_at__gte=cutoff)
    vouchers = Redemption.objects.filter(open_then, created_at__lt=cutoff, reward__shop__city=city).aggregate(
        count=Count("id"), points=Sum("points_spent")
    )
    voucher_points = vouchers["points"] or 0
    return {
        "city_id": city.pk,
        "as_of": as_of,
        "points_held": int(held),
        "vouchers_outstanding": vouchers["count"],
        "voucher_points_outstanding": voucher_points,
        "total_points": int(held) + voucher_points,
    }
