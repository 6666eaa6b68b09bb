"""Open data for public supervision: /public/data/ as JSON and CSV, no login, cacheable, throttled.

Every dataset is a flat table (the same columns in CSV and JSON) built from the rollups by
stats.selectors.public_overview; docs/public.md documents the columns and the privacy rule.
"""

import csv
import hashlib
import io
import json

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from stats import selectors

from .csv_cells import safe_line
from .fields import IdField

# Figures change when the rollup job runs (every few minutes): caches may keep a copy that long.
CACHE_CONTROL = "public, max-age=300"


class PublicThrottle(SimpleRateThrottle):
    """Per client address: REMOTE_ADDR, which ClientAddressMiddleware (backend/client_address.py) has
    already set to the real client behind trusted proxies, so a forged X-Forwarded-For buys nothing."""

    scope = "public"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def check_throttle(request) -> None:
    """The same budget for the page, which is not a DRF view."""
    throttle = PublicThrottle()
    if not throttle.allow_request(request, None):
        raise Throttled(wait=throttle.wait())


class PublicQueryIn(serializers.Serializer):
    city = IdField(required=False)
    year = serializers.IntegerField(
        required=False, min_value=selectors.PUBLIC_EARLIEST_YEAR, max_value=selectors.PUBLIC_LATEST_YEAR
    )


PUBLIC_PARAMS = [
    OpenApiParameter("city", OpenApiTypes.INT, description="default: the first city"),
    OpenApiParameter("year", OpenApiTypes.INT, description="calendar year (2000-2199), default this year"),
]


# Every dataset of a city's year comes from one overview; many anonymous readers ask for the same
# one, so it is computed once per this many seconds and shared through the cache (Redis).
OVERVIEW_SECONDS = 60


def overview_key(city: int | None, year: int | None) -> str:
    """Where the overview of a city's year (None: the defaults) is shared in the cache."""
    return f"public:overview:{city or 0}:{year or 0}:{selectors.min_cell_households()}"


def published(request) -> dict:
    """The meta data and every dataset's rows for the request's city and year, cached."""
    query = PublicQueryIn(data=request.GET)
    query.is_valid(raise_exception=True)
    city, year = query.validated_data.get("city"), query.validated_data.get("year")
    key = overview_key(city, year)
    found = cache.get(key)
    if found is None:
        overview = selectors.public_overview(city, year)
        found = {
            "meta": envelope(overview, []),
            "last_modified": overview.last_modified,
            "rows": {name: build(overview) for name, (_columns, build) in DATASETS.items()},
        }
        cache.set(key, found, OVERVIEW_SECONDS)
    return found


def _kg(grams: int) -> float:
    return round(grams / 1000, 3)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# ---- the datasets: columns and rows ----------------------------------------------------------------

INDICATOR_NAMES = {i.code: i.name for i in selectors.INDICATORS}
PLACE_COLUMNS = [
    "scope",
    "place_id",
    "name",
    "name_en",
    "withheld",
    "households",
    "participating_households",
    "participation_rate",
    "accuracy_rate",
    "kiosks_in_service",
    "kiosks_out_of_service",
    "co2e_avoided_kg",
]
INDICATOR_COLUMNS = [
    "scope",
    "place_id",
    "indicator",
    "indicator_name",
    "value",
    "numerator_kg",
    "denominator_kg",
    "target",
    "target_year",
    "projected_rate",
    "on_track",
]
MONTH_COLUMNS = ["scope", "place_id", "month", "participating_households", *selectors.INDICATOR_CODES]
COMMUNITY_COLUMNS = [
    "rank",
    "community_id",
    "community",
    "district_id",
    "households",
    "participating_households",
    "participation_rate",
    "accuracy_rate",
    "co2e_avoided_kg",
]


def place_rows(overview) -> list[dict]:
    return [
        {
            "scope": p.scope,
            "place_id": p.id,
            "name": p.name,
            "name_en": p.name_en,
            "withheld": p.people.withheld,
            "households": p.people.households,
            "participating_households": p.people.participating_households,
            "participation_rate": _rate(p.people.participation_rate),
            "accuracy_rate": _rate(p.people.accuracy_rate),
            "kiosks_in_service": p.kiosks_in_service,
            "kiosks_out_of_service": p.kiosks_out_of_service,
            "co2e_avoided_kg": None if p.co2e_g is None else _kg(p.co2e_g),
        }
        for p in overview.places
    ]


def indicator_rows(overview) -> list[dict]:
    return [
        {
            "scope": p.scope,
            "place_id": p.id,
            "indicator": code,
            "indicator_name": INDICATOR_NAMES[code],
            "value": _rate(figure.value),
            "numerator_kg": _kg(figure.ratio.recovered_g),
            "denominator_kg": _kg(figure.ratio.handled_g),
            "target": figure.target.value if figure.target else None,
            "target_year": figure.target.year if figure.target else None,
            "projected_rate": _rate(figure.projection.projected_rate),
            "on_track": figure.projection.on_track,
        }
        for p in overview.places
        for code, figure in p.indicators.items()
    ]


def month_rows(overview) -> list[dict]:
    return [
        {
            "scope": m.scope,
            "place_id": m.id,
            "month": m.month.strftime("%Y-%m"),
            "participating_households": m.participating_households,
            **{code: _rate(m.indicators.get(code)) for code in selectors.INDICATOR_CODES},
        }
        for m in overview.months
    ]


def community_rows(overview) -> list[dict]:
    return [
        {
            "rank": c.rank,
            "community_id": c.id,
            "community": c.name,
            "district_id": c.district_id,
            "households": c.people.households,
            "participating_households": c.people.participating_households,
            "participation_rate": _rate(c.people.participation_rate),
            "accuracy_rate": _rate(c.people.accuracy_rate),
            "co2e_avoided_kg": None if c.co2e_g is None else _kg(c.co2e_g),
        }
        for c in overview.communities
    ]


DATASETS = {
    "places": (PLACE_COLUMNS, place_rows),
    "indicators": (INDICATOR_COLUMNS, indicator_rows),
    "months": (MONTH_COLUMNS, month_rows),
    "communities": (COMMUNITY_COLUMNS, community_rows),
}


def envelope(overview, rows: list[dict]) -> dict:
    return {
        "city": {"id": overview.city.id, "name": overview.city.name, "name_en": overview.city.name_en},
        "year": overview.year,
        "from": overview.start.isoformat(),
        "to": overview.end.isoformat(),
        "min_households": overview.min_households,
        "withheld_communities": overview.withheld_communities,
        "last_modified": overview.last_modified.isoformat(),
        "results": rows,
    }


# ---- caching: the same bytes, the same ETag ---------------------------------------------------------


def _matches(if_none_match: str, etag: str) -> bool:
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in wanted or etag in wanted


def cached_response(request, body: bytes, content_type: str, last_modified) -> HttpResponse:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if _matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified.timestamp())
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = "Accept-Encoding"
    return response


def csv_body(columns: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheets on Chinese Windows read UTF-8
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(safe_line("" if row[c] is None else row[c] for c in columns))
    return out.getvalue().encode()


# ---- OpenAPI shapes ---------------------------------------------------------------------------------

_NUM = {"allow_null": True}
ROW_SERIALIZERS = {
    "places": inline_serializer(
        "PublicPlaceRow",
        {
            "scope": serializers.ChoiceField(choices=["city", "district"]),
            "place_id": serializers.IntegerField(),
            "name": serializers.CharField(),
            "name_en": serializers.CharField(),
            "withheld": serializers.BooleanField(),
            "households": serializers.IntegerField(**_NUM),
            "participating_households": serializers.IntegerField(**_NUM),
            "participation_rate": serializers.FloatField(**_NUM),
            "accuracy_rate": serializers.FloatField(**_NUM),
            "kiosks_in_service": serializers.IntegerField(),
            "kiosks_out_of_service": serializers.IntegerField(),
            "co2e_avoided_kg": serializers.FloatField(**_NUM),
        },
    ),
    "indicators": inline_serializer(
        "PublicIndicatorRow",
        {
            "scope": serializers.ChoiceField(choices=["city", "district"]),
            "place_id": serializers.IntegerField(),
            "indicator": serializers.CharField(),
            "indicator_name": serializers.CharField(),
            "value": serializers.FloatField(**_NUM),
            "numerator_kg": serializers.FloatField(),
            "denominator_kg": serializers.FloatField(),
            "target": serializers.FloatField(**_NUM),
            "target_year": serializers.IntegerField(**_NUM),
            "projected_rate": serializers.FloatField(**_NUM),
            "on_track": serializers.BooleanField(**_NUM),
        },
    ),
    "months": inline_serializer(
        "PublicMonthRow",
        {
            "scope": serializers.ChoiceField(choices=["city", "district"]),
            "place_id": serializers.IntegerField(),
            "month": serializers.CharField(),
            "participating_households": serializers.IntegerField(**_NUM),
            **{code: serializers.FloatField(**_NUM) for code in selectors.INDICATOR_CODES},
        },
    ),
    "communities": inline_serializer(
        "PublicCommunityRow",
        {
            "rank": serializers.IntegerField(),
            "community_id": serializers.IntegerField(),
            "community": serializers.CharField(),
            "district_id": serializers.IntegerField(),
            "households": serializers.IntegerField(),
            "participating_households": serializers.IntegerField(),
            "participation_rate": serializers.FloatField(**_NUM),
            "accuracy_rate": serializers.FloatField(**_NUM),
            "co2e_avoided_kg": serializers.FloatField(**_NUM),
        },
    ),
}


def _envelope_schema(name: str):
    return inline_serializer(
        f"Public{name.title()}Data",
        {
            "city": inline_serializer(
                f"Public{name.title()}City",
                {
                    "id": serializers.IntegerField(),
                    "name": serializers.CharField(),
                    "name_en": serializers.CharField(),
                },
            ),
            "year": serializers.IntegerField(),
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "min_households": serializers.IntegerField(),
            "withheld_communities": serializers.IntegerField(),
            "last_modified": serializers.DateTimeField(),
            "results": serializers.ListField(child=ROW_SERIALIZERS[name]),
        },
    )


class _PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicThrottle]
    renderer_classes = [JSONRenderer]
    dataset = ""
    fmt = "json"

    def get(self, request):
        found = published(request)
        columns, _build = DATASETS[self.dataset]
        rows = found["rows"][self.dataset]
        meta = found["meta"]
        if self.fmt == "csv":
            body = csv_body(columns, rows)
            response = cached_response(request, body, "text/csv; charset=utf-8", found["last_modified"])
            if response.status_code == 200:
                name = f"greenloop-{self.dataset}-{meta['city']['id']}-{meta['year']}.csv"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        body = json.dumps({**meta, "results": rows}, ensure_ascii=False, separators=(",", ":")).encode()
        return cached_response(request, body, "application/json", found["last_modified"])


def _views(dataset: str):
    json_schema = extend_schema(
        parameters=PUBLIC_PARAMS,
        auth=[],
        tags=["public"],
        responses={200: _envelope_schema(dataset), 304: OpenApiResponse(description="not modified")},
    )
    csv_schema = extend_schema(
        parameters=PUBLIC_PARAMS,
        auth=[],
        tags=["public"],
        responses={
            (200, "text/csv"): inline_serializer(
                f"Public{dataset.title()}Csv", {"csv": serializers.CharField()}
            ),
            304: OpenApiResponse(description="not modified"),
        },
    )

    # A fresh function per view: the schema annotation is stored on the function itself.
    def json_get(self, request):
        return _PublicView.get(self, request)

    def csv_get(self, request):
        return _PublicView.get(self, request)

    json_view = type(
        f"Public{dataset.title()}JsonView", (_PublicView,), {"dataset": dataset, "get": json_schema(json_get)}
    )
    csv_view = type(
        f"Public{dataset.title()}CsvView",
        (_PublicView,),
        {"dataset": dataset, "fmt": "csv", "get": csv_schema(csv_get)},
    )
    return json_view, csv_view


VIEWS = {dataset: _views(dataset) for dataset in DATASETS}


class PublicDataIndexView(APIView):
    """What /public/data/ holds: each dataset's JSON and CSV address and its columns."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicThrottle]

    @extend_schema(
        auth=[],
        tags=["public"],
        responses=inline_serializer(
            "PublicDataIndex",
            {
                "datasets": serializers.ListField(
                    child=inline_serializer(
                        "PublicDataset",
                        {
                            "name": serializers.CharField(),
                            "json": serializers.CharField(),
                            "csv": serializers.CharField(),
                            "columns": serializers.ListField(child=serializers.CharField()),
                        },
                    )
                ),
                "documentation": serializers.CharField(),
                "min_households": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request):
        from rest_framework.response import Response

        return Response(
            {
                "datasets": [
                    {
                        "name": name,
                        "json": f"/public/data/{name}.json",
                        "csv": f"/public/data/{name}.csv",
                        "columns": columns,
                    }
                    for name, (columns, _build) in DATASETS.items()
                ],
                "documentation": "/api/docs/",
                "min_households": selectors.min_cell_households(),
            }
        )
