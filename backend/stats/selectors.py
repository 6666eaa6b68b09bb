"""Reads of statistics, already scoped to the caller. Everything here reads rollups, never raw events."""

# ruff: noqa: S608 - SQL is assembled from table names in code; values always travel as parameters.
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection

from backend.accounts.models import User
from backend.accounts.selectors import visible_districts
from backend.errors import NotFound
from backend.geo.models import Community, District

from . import periods, rate
from .models import Collection, DistrictStatsSettings

MIN_CELL_HOUSEHOLDS = 5


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def visible_district(user: User, district_id: int) -> District:
    """The district if the user may read it; another district is simply not found (no existence leak)."""
    district = visible_districts(user).filter(pk=district_id).first()
    if district is None:
        raise NotFound()
    return district


def incineration_settings(district_ids: list[int]) -> dict[int, bool]:
    return dict(
        DistrictStatsSettings.objects.filter(district_id__in=district_ids).values_list(
            "district_id", "incineration_counts_as_recovery"
        )
    )


@dataclass
class Flows:
    """Weights of one district (or community) over some days, enough to compute the rate."""

    collected: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    deposited: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def utilization(self, incineration_counts: bool) -> rate.Utilization:
        return rate.utilization(
            collected_g=self.collected, deposited_g=self.deposited, incineration_counts=incineration_counts
        )


def daily_flows(district_ids: list[int], start: date, end: date) -> dict[int, dict[date, Flows]]:
    flows: dict[int, dict[date, Flows]] = defaultdict(lambda: defaultdict(Flows))
    for district, day, category, destination, weight in _rows(
        """SELECT district_id, day, category, destination, sum(weight_g) FROM stats_collectiondaily
           WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1, 2, 3, 4""",
        [district_ids, start, end],
    ):
        flows[district][day].collected[(category, destination)] += int(weight)
    for district, day, category, weight in _rows(
        """SELECT district_id, day, category, sum(weight_g) FROM stats_districtdepositdaily
           WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1, 2, 3""",
        [district_ids, start, end],
    ):
        flows[district][day].deposited[category] += int(weight)
    return flows


def _mask_clause(start: date, end: date) -> tuple[str, list]:
    """A WHERE fragment selecting household-month rows with a day in start..end."""
    clauses, params = [], []
    for month, mask in periods.month_masks(start, end):
        clauses.append("(month = %s AND days & %s <> 0)")
        params += [month, mask]
    return "(" + " OR ".join(clauses) + ")", params


def whole_bucket(start: date, end: date, today: date) -> tuple[str, date] | None:
    """The calendar bucket (kind, start) that start..end amounts to, if any.

    A period that runs from a bucket's first day to today or later, within the bucket, holds the same
    events as the whole bucket (nothing has happened after today), so the year so far is the year.
    """
    for kind in ("day", "week", "month", "year"):
        first = periods.bucket_start(start, kind) if kind != "year" else start.replace(month=1, day=1)
        if first != start:
            continue
        last = periods.bucket_end(first, kind)
        if end == last or (today <= end <= last):
            return kind, first
    return None


def participating_households(
    district_ids: list[int], start: date, end: date, *, by: str = "district_id"
) -> dict[int, int]:
    """Distinct households with an accepted drop or a deposit in start..end, per district or community."""
    bucket = whole_bucket(start, end, periods.today())
    if bucket is not None:
        return {
            key: int(n)
            for key, n in _rows(
                f"""SELECT {by}, sum(households) FROM stats_participationcount
                    WHERE district_id = ANY(%s) AND kind = %s AND start = %s GROUP BY 1""",
                [district_ids, *bucket],
            )
        }
    where, params = _mask_clause(start, end)
    return dict(
        _rows(
            f"""SELECT {by}, count(DISTINCT household_id) FROM stats_householdmonth
                WHERE district_id = ANY(%s) AND month BETWEEN %s AND %s AND {where} GROUP BY 1""",
            [district_ids, periods.month_start(start), end, *params],
        )
    )


def registered_households(district_ids: list[int], *, by: str = "district_id") -> dict[int, int]:
    return dict(
        _rows(
            f"SELECT {by}, sum(households) FROM stats_communityhouseholds "
            "WHERE district_id = ANY(%s) GROUP BY 1",
            [district_ids],
        )
    )


def drop_totals(district_ids: list[int], start: date, end: date, *, by: str = "district_id") -> dict:
    table = "stats_districtdropdaily" if by == "district_id" else "stats_dropdaily"
    return {
        row[0]: row[1:]
        for row in _rows(
            f"""SELECT {by}, sum(drops), sum(accepted), sum(verdicts), sum(correct) FROM {table}
                WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1""",
            [district_ids, start, end],
        )
    }


def _ratio(numerator, denominator) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _kg(grams: int) -> float:
    return round(grams / 1000, 3)


def district_rows(user: User, start: date, end: date) -> list[dict]:
    """One statistics row per district the user may see, ordered by utilization rate (best first)."""
    districts = list(visible_districts(user).order_by("id"))
    ids = [d.id for d in districts]
    if not ids:
        return []
    today = periods.today()
    households = registered_households(ids)
    participating = participating_households(ids, start, end)
    drops = drop_totals(ids, start, end)
    flows = daily_flows(ids, start, end)
    incineration = incineration_settings(ids)
    deposits_by_material: dict[int, dict[str, float]] = defaultdict(dict)
    for district, material, weight in _rows(
        """SELECT district_id, material, sum(weight_g) FROM stats_districtdepositdaily
           WHERE district_id = ANY(%s) AND day BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 2""",
        [ids, start, end],
    ):
        deposits_by_material[district][material] = _kg(int(weight))
    rows = []
    for district in districts:
        counts = drops.get(district.id, (0, 0, 0, 0))
        days = flows.get(district.id, {})
        counts_incineration = incineration.get(district.id, False)
        daily = [(day, f.utilization(counts_incineration)) for day, f in days.items()]
        total = sum((u for _d, u in daily), rate.ZERO)
        projection = rate.project(daily, start=start, end=end, today=today)
        collected: dict[str, int] = defaultdict(int)
        for f in days.values():
            for (category, _destination), weight in f.collected.items():
                collected[category] += weight
        registered = int(households.get(district.id, 0))
        participants = int(participating.get(district.id, 0))
        rows.append(
            {
                "district": {"id": district.id, "name": district.name, "name_en": district.name_en},
                "households": registered,
                "participating_households": participants,
                "participation_rate": _ratio(participants, registered),
                "drops": int(counts[0] or 0),
                "accepted_drops": int(counts[1] or 0),
                "verdicts": int(counts[2] or 0),
                "accuracy_rate": _ratio(int(counts[3] or 0), int(counts[2] or 0)),
                "deposits_kg_by_material": deposits_by_material.get(district.id, {}),
                "collected_kg_by_category": {k: _kg(v) for k, v in sorted(collected.items())},
                "recovered_kg": _kg(total.recovered_g),
                "handled_kg": _kg(total.handled_g),
                "utilization_rate": None if total.rate is None else round(total.rate, 4),
                "target": rate.TARGET,
                "projected_rate": None
                if projection.projected_rate is None
                else round(projection.projected_rate, 4),
                "on_track": projection.on_track,
                "incineration_counts_as_recovery": counts_incineration,
            }
        )
    rows.sort(
        key=lambda r: (r["utilization_rate"] is None, -(r["utilization_rate"] or 0), r["district"]["id"])
    )
    return rows


def _bucket_participation(district_id: int, spans: list[tuple[date, date]], granularity: str) -> list[int]:
    """Participating households per bucket: whole buckets from the counts, clipped ones from the months."""
    today = periods.today()
    counted = dict(
        _rows(
            """SELECT start, sum(households) FROM stats_participationcount
               WHERE district_id = %s AND kind = %s AND start BETWEEN %s AND %s GROUP BY 1""",
            [district_id, granularity, periods.bucket_start(spans[0][0], granularity), spans[-1][1]],
        )
    )
    result = []
    for first, last in spans:
        bucket = whole_bucket(first, last, today)
        if bucket is not None and bucket[0] == granularity:
            result.append(int(counted.get(first, 0)))
        else:
            result.append(int(participating_households([district_id], first, last).get(district_id, 0)))
    return result


def district_series(user: User, district_id: int, granularity: str, start: date, end: date) -> dict:
    district = visible_district(user, district_id)
    spans = periods.buckets(start, end, granularity)
    index_of = {}
    for index, (first, last) in enumerate(spans):
        day = first
        while day <= last:
            index_of[day] = index
            day += timedelta(days=1)
    counts_incineration = incineration_settings([district.id]).get(district.id, False)
    flows = daily_flows([district.id], start, end).get(district.id, {})
    drops = [[0, 0, 0, 0] for _ in spans]
    for day, *values in _rows(
        """SELECT day, sum(drops), sum(accepted), sum(verdicts), sum(correct) FROM stats_districtdropdaily
           WHERE district_id = %s AND day BETWEEN %s AND %s GROUP BY 1""",
        [district.id, start, end],
    ):
        bucket = drops[index_of[day]]
        for i, value in enumerate(values):
            bucket[i] += int(value)
    bucket_flows = [Flows() for _ in spans]
    for day, f in flows.items():
        target = bucket_flows[index_of[day]]
        for key, weight in f.collected.items():
            target.collected[key] += weight
        for key, weight in f.deposited.items():
            target.deposited[key] += weight
    participation = _bucket_participation(district.id, spans, granularity)
    points = []
    for index, (first, last) in enumerate(spans):
        f = bucket_flows[index]
        use = f.utilization(counts_incineration)
        collected: dict[str, int] = defaultdict(int)
        for (category, _destination), weight in f.collected.items():
            collected[category] += weight
        n_drops, accepted, verdicts, correct = drops[index]
        points.append(
            {
                "start": first,
                "end": last,
                "drops": n_drops,
                "accepted_drops": accepted,
                "verdicts": verdicts,
                "accuracy_rate": _ratio(correct, verdicts),
                "participating_households": participation[index],
                "deposits_kg": _kg(sum(f.deposited.values())),
                "collected_kg_by_category": {k: _kg(v) for k, v in sorted(collected.items())},
                "recovered_kg": _kg(use.recovered_g),
                "handled_kg": _kg(use.handled_g),
                "utilization_rate": None if use.rate is None else round(use.rate, 4),
            }
        )
    return {
        "district": {"id": district.id, "name": district.name, "name_en": district.name_en},
        "granularity": granularity,
        "from": start,
        "to": end,
        "target": rate.TARGET,
        "points": points,
    }


def community_rows(user: User, district_id: int, start: date, end: date) -> list[dict]:
    """Per community of a district; a community with fewer than 5 households shows no figures."""
    district = visible_district(user, district_id)
    ids = [district.id]
    households = registered_households(ids, by="community_id")
    participating = participating_households(ids, start, end, by="community_id")
    drops = drop_totals(ids, start, end, by="community_id")
    deposits = dict(
        _rows(
            """SELECT community_id, sum(weight_g) FROM stats_depositdaily
               WHERE district_id = %s AND day BETWEEN %s AND %s GROUP BY 1""",
            [district.id, start, end],
        )
    )
    rows = []
    for community in Community.objects.filter(district=district).order_by("id"):
        registered = int(households.get(community.id, 0))
        row = {"community": {"id": community.id, "name": community.name}, "suppressed": False}
        if registered < MIN_CELL_HOUSEHOLDS:
            # Figures of a handful of households would single out a family's habits.
            row.update(
                suppressed=True,
                households=None,
                participating_households=None,
                participation_rate=None,
                drops=None,
                accuracy_rate=None,
                deposits_kg=None,
            )
        else:
            participants = int(participating.get(community.id, 0))
            counts = drops.get(community.id, (0, 0, 0, 0))
            row.update(
                households=registered,
                participating_households=participants,
                participation_rate=_ratio(participants, registered),
                drops=int(counts[0] or 0),
                accuracy_rate=_ratio(int(counts[3] or 0), int(counts[2] or 0)),
                deposits_kg=_kg(int(deposits.get(community.id, 0))),
            )
        rows.append(row)
    return rows


def visible_collections(user: User):
    return (
        Collection.objects.filter(district__in=visible_districts(user))
        .select_related("district", "community")
        .order_by("-date", "-id")
    )


EXPORT_COLUMNS = [
    "date",
    "district_id",
    "district",
    "drops",
    "accepted_drops",
    "verdicts",
    "correct_verdicts",
    "participating_households",
    "deposits_kg",
    "collected_recyclable_kg",
    "collected_kitchen_kg",
    "collected_hazardous_kg",
    "collected_other_kg",
    "recovered_kg",
    "handled_kg",
    "utilization_rate",
]


def export_rows(user: User, start: date, end: date) -> Iterator[list]:
    """Daily rows per visible district, streamed from one server-side cursor (no full list in memory)."""
    districts = {d.id: d for d in visible_districts(user)}
    if not districts:
        return
    incineration = incineration_settings(list(districts))
    sql = """
        WITH days AS (
            SELECT district_id, day FROM stats_districtdropdaily WHERE district_id = ANY(%(ids)s) AND day BETWEEN %(a)s AND %(b)s
            UNION SELECT district_id, day FROM stats_districtdepositdaily WHERE district_id = ANY(%(ids)s) AND day BETWEEN %(a)s AND %(b)s
            UNION SELECT district_id, day FROM stats_collectiondaily WHERE district_id = ANY(%(ids)s) AND day BETWEEN %(a)s AND %(b)s
            UNION SELECT district_id, start FROM stats_participationcount WHERE kind = 'day' AND district_id = ANY(%(ids)s) AND start BETWEEN %(a)s AND %(b)s
        )
        SELECT d.day, d.district_id,
            (SELECT coalesce(sum(drops), 0) FROM stats_districtdropdaily x WHERE x.district_id = d.district_id AND x.day = d.day),
            (SELECT coalesce(sum(accepted), 0) FROM stats_districtdropdaily x WHERE x.district_id = d.district_id AND x.day = d.day),
            (SELECT coalesce(sum(verdicts), 0) FROM stats_districtdropdaily x WHERE x.district_id = d.district_id AND x.day = d.day),
            (SELECT coalesce(sum(correct), 0) FROM stats_districtdropdaily x WHERE x.district_id = d.district_id AND x.day = d.day),
            (SELECT coalesce(sum(households), 0) FROM stats_participationcount x WHERE x.kind = 'day' AND x.district_id = d.district_id AND x.start = d.day),
            (SELECT coalesce(json_object_agg(category, w), '{}') FROM (SELECT category, sum(weight_g) w FROM stats_districtdepositdaily x
                WHERE x.district_id = d.district_id AND x.day = d.day GROUP BY 1) dep),
            (SELECT coalesce(json_agg(json_build_array(category, destination, w)), '[]') FROM (
                SELECT category, destination, sum(weight_g) w FROM stats_collectiondaily x
                WHERE x.district_id = d.district_id AND x.day = d.day GROUP BY 1, 2) col)
        FROM days d ORDER BY d.day, d.district_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": list(districts), "a": start, "b": end})
        while batch := cursor.fetchmany(500):
            for day, district_id, n, accepted, verdicts, correct, hh, deposited, collected in batch:
                flows = Flows()
                for category, weight in (deposited or {}).items():
                    flows.deposited[category] += int(weight)
                by_category: dict[str, int] = defaultdict(int)
                for category, destination, weight in collected or []:
                    flows.collected[(category, destination)] += int(weight)
                    by_category[category] += int(weight)
                use = flows.utilization(incineration.get(district_id, False))
                yield [
                    day.isoformat(),
                    district_id,
                    districts[district_id].name,
                    n,
                    accepted,
                    verdicts,
                    correct,
                    hh,
                    _kg(sum(flows.deposited.values())),
                    *(_kg(by_category.get(c, 0)) for c in ("recyclable", "kitchen", "hazardous", "other")),
                    _kg(use.recovered_g),
                    _kg(use.handled_g),
                    "" if use.rate is None else round(use.rate, 4),
                ]
