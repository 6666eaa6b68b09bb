"""Statistics over HTTP: collections, district statistics, series, community breakdown, CSV export."""

import csv
import itertools
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.categories import WasteCategory
from geo.models import Community, District
from stats import selectors, services
from stats.errors import BadCsv
from stats.models import Collection, Destination, Plant

from .csv_cells import safe_line
from .fields import IdField
from .permissions import IsCityOfficer, IsStaffMember

PERIOD_PARAMS = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="first day (Asia/Shanghai), default 1 January of the `to` year"
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="last day, inclusive, default 31 December of this year"
    ),
]

# ---- figures as the API shows them: kilograms to the gram, rates to four places ------------------


def kilograms(grams: int) -> float:
    return round(grams / 1000, 3)


def four_places(value: float) -> float:
    return round(value, 4)


class KilogramsField(serializers.FloatField):
    """Grams in the data, kilograms on the wire."""

    def to_representation(self, value):
        return kilograms(int(value))


class RateField(serializers.FloatField):
    def to_representation(self, value):
        return four_places(value)


# ---- serializers -------------------------------------------------------------------------------


class CollectionValuesIn(serializers.Serializer):
    district_id = IdField()
    community_id = IdField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=WasteCategory.choices)
    weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    date = serializers.DateField()
    destination = serializers.ChoiceField(choices=Destination.choices)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    plant_id = IdField(required=False, allow_null=True)
    pickup_ids = serializers.ListField(child=IdField(), required=False, default=list, max_length=500)


class CollectionIn(CollectionValuesIn):
    pass


class CollectionQueryIn(serializers.Serializer):
    """The list's filters, by the model's field names, so a statistician can take one route at a time."""

    district_id = IdField(required=False, source="district")
    category = serializers.ChoiceField(choices=WasteCategory.choices, required=False)
    destination = serializers.ChoiceField(choices=Destination.choices, required=False)
    plant_id = IdField(required=False, source="plant")


class CollectionCorrectIn(serializers.Serializer):
    replacement = CollectionValuesIn(required=False, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CollectionImportIn(serializers.Serializer):
    file = serializers.FileField()


class CollectionOut(serializers.Serializer):
    id = serializers.IntegerField()
    district_id = serializers.IntegerField()
    community_id = serializers.IntegerField(allow_null=True)
    category = serializers.CharField()
    weight_kg = serializers.SerializerMethodField()
    weight_g = serializers.IntegerField()
    date = serializers.DateField()
    destination = serializers.CharField()
    source = serializers.CharField()
    reference = serializers.CharField()
    note = serializers.CharField()
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True)
    plant_id = serializers.IntegerField(allow_null=True)
    pickup_ids = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_pickup_ids(self, obj) -> list[int]:
        return sorted(link.pickup_id for link in obj.pickup_links.all())

    def get_weight_kg(self, obj) -> float:
        return obj.weight_g / 1000


class CollectionCorrectionOut(serializers.Serializer):
    reversal = CollectionOut()
    replacement = CollectionOut(allow_null=True)


class ImportErrorOut(serializers.Serializer):
    line = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField(required=False)
    fields = serializers.DictField(required=False)


class CollectionImportOut(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())
    errors = ImportErrorOut(many=True)


class PlaceOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField(required=False)


class IndicatorOut(serializers.Serializer):
    """One indicator over the period: value, the sums behind it, the target in force, the projection."""

    code = serializers.CharField(source="indicator.code")
    name = serializers.CharField(source="indicator.name")
    value = RateField(allow_null=True)
    numerator_kg = KilogramsField(source="ratio.recovered_g")
    denominator_kg = KilogramsField(source="ratio.handled_g")
    target = serializers.FloatField(source="target.value", allow_null=True, default=None)
    target_year = serializers.IntegerField(source="target.year", allow_null=True, default=None)
    target_source = serializers.CharField(source="target.source", allow_null=True, default=None)
    projected_rate = RateField(source="projection.projected_rate", allow_null=True)
    on_track = serializers.BooleanField(source="projection.on_track", allow_null=True)


class CarbonOut(serializers.Serializer):
    """CO2e avoided: kiosk deposits by material, collections by category and destination (docs/carbon.md)."""

    co2e_kg = KilogramsField(source="co2e_g")
    deposits_co2e_kg = KilogramsField(source="deposits_co2e_g")
    collections_co2e_kg = KilogramsField(source="collections_co2e_g")
    co2e_kg_by_material = serializers.DictField(child=KilogramsField(), source="co2e_g_by_material")


def carbon_context(district_ids: list[int], start, end, *, by: str = "district_id") -> dict:
    """What the answers' `carbon` fields read: one read of the rollups for every row."""
    return {"carbon": selectors.carbon_avoided(district_ids, start, end, by=by)}


def carbon_block(figures) -> dict:
    """CarbonOut's representation, built directly: a city's answer holds one per district, and a
    serializer made for each was a tenth of the time the answer took (tests compare the two)."""
    return {
        "co2e_kg": kilograms(int(figures.co2e_g)),
        "deposits_co2e_kg": kilograms(int(figures.deposits_co2e_g)),
        "collections_co2e_kg": kilograms(int(figures.collections_co2e_g)),
        "co2e_kg_by_material": {
            str(material): kilograms(int(grams)) for material, grams in figures.co2e_g_by_material.items()
        },
    }


def _carbon_of(serializer, key: int) -> dict:
    return carbon_block(serializer.context.get("carbon", {}).get(key, selectors.NO_CARBON))


def indicator_block(figure) -> dict:
    """IndicatorOut's representation, built directly: a city's answer holds dozens of these blocks,
    and DRF's field-by-field pass over them was most of the time an answer took."""
    target, projection, ratio = figure.target, figure.projection, figure.ratio
    value, projected = ratio.rate, projection.projected_rate
    return {
        "code": figure.indicator.code,
        "name": str(figure.indicator.name),
        "value": None if value is None else four_places(value),
        "numerator_kg": kilograms(int(ratio.recovered_g)),
        "denominator_kg": kilograms(int(ratio.handled_g)),
        "target": None if target is None else float(target.value),
        "target_year": None if target is None else int(target.year),
        "target_source": None if target is None else str(target.source),
        "projected_rate": None if projected is None else four_places(projected),
        "on_track": projection.on_track,
    }


@extend_schema_field(serializers.DictField(child=IndicatorOut()))
class IndicatorsField(serializers.Field):
    """`{code: IndicatorOut}` for every indicator, rendered by `indicator_block` (same schema)."""

    def to_representation(self, value):
        return {code: indicator_block(figure) for code, figure in value.items()}


class DistrictStatsOut(serializers.Serializer):
    district = PlaceOut()
    households = serializers.IntegerField()
    participating_households = serializers.IntegerField()
    participation_rate = RateField(allow_null=True)
    drops = serializers.IntegerField()
    accepted_drops = serializers.IntegerField()
    verdicts = serializers.IntegerField()
    accuracy_rate = RateField(allow_null=True)
    deposits_kg_by_material = serializers.DictField(child=KilogramsField(), source="deposits_g_by_material")
    collected_kg_by_category = serializers.DictField(child=KilogramsField(), source="collected_g_by_category")
    recovered_kg = KilogramsField(source="utilization.recovered_g")
    handled_kg = KilogramsField(source="utilization.handled_g")
    utilization_rate = RateField(source="utilization.rate", allow_null=True)
    target = serializers.FloatField(allow_null=True)
    projected_rate = RateField(source="projection.projected_rate", allow_null=True)
    on_track = serializers.BooleanField(source="projection.on_track", allow_null=True)
    incineration_counts_as_recovery = serializers.BooleanField()
    indicators = IndicatorsField()
    carbon = serializers.SerializerMethodField()

    @extend_schema_field(CarbonOut)
    def get_carbon(self, row) -> dict:
        return _carbon_of(self, row.district.id)

    def to_representation(self, instance):
        return district_block(instance, _carbon_of(self, instance.district.id))


def _or_none(value, convert):
    return None if value is None else convert(value)


def district_block(row, carbon: dict) -> dict:
    """DistrictStatsOut's representation, built directly (the fields above stay its schema, and tests
    compare the two): DRF's field-by-field pass over a city's rows was a fifth of the answer's time."""
    district, utilization, projection = row.district, row.utilization, row.projection
    return {
        "district": {
            "id": district.id,
            "name": str(district.name),
            "name_en": _or_none(district.name_en, str),
        },
        "households": int(row.households),
        "participating_households": int(row.participating_households),
        "participation_rate": _or_none(row.participation_rate, four_places),
        "drops": int(row.drops),
        "accepted_drops": int(row.accepted_drops),
        "verdicts": int(row.verdicts),
        "accuracy_rate": _or_none(row.accuracy_rate, four_places),
        "deposits_kg_by_material": {str(k): kilograms(int(g)) for k, g in row.deposits_g_by_material.items()},
        "collected_kg_by_category": {
            str(k): kilograms(int(g)) for k, g in row.collected_g_by_category.items()
        },
        "recovered_kg": kilograms(int(utilization.recovered_g)),
        "handled_kg": kilograms(int(utilization.handled_g)),
        "utilization_rate": _or_none(utilization.rate, four_places),
        "target": _or_none(row.target, float),
        "projected_rate": _or_none(projection.projected_rate, four_places),
        "on_track": projection.on_track,
        "incineration_counts_as_recovery": bool(row.incineration_counts_as_recovery),
        "indicators": {code: indicator_block(figure) for code, figure in row.indicators.items()},
        "carbon": carbon,
    }


class PeriodOut(serializers.Serializer):
    """Answers that carry their period as `from` and `to`: Python keywords, so declared in get_fields,
    which the OpenAPI schema reads too (a renamed field would document the wrong names)."""

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(source="start")
        fields["to"] = serializers.DateField(source="end")
        return fields


class DistrictStatsListOut(PeriodOut):
    target = serializers.FloatField(allow_null=True)
    results = DistrictStatsOut(many=True, source="rows")
    # Every district the reader may see together: the city for a city officer.
    carbon = serializers.SerializerMethodField()

    @extend_schema_field(CarbonOut)
    def get_carbon(self, table) -> dict:
        return carbon_block(selectors.carbon_total(self.context.get("carbon", {}).values()))

    # One page holds every district a reader may see.
    next = serializers.CharField(allow_null=True, default=None)
    previous = serializers.CharField(allow_null=True, default=None)


class SeriesPointOut(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    drops = serializers.IntegerField()
    accepted_drops = serializers.IntegerField()
    verdicts = serializers.IntegerField()
    accuracy_rate = RateField(allow_null=True)
    participating_households = serializers.IntegerField()
    deposits_kg = KilogramsField(source="deposited_g")
    collected_kg_by_category = serializers.DictField(child=KilogramsField(), source="collected_g_by_category")
    recovered_kg = KilogramsField(source="utilization.recovered_g")
    handled_kg = KilogramsField(source="utilization.handled_g")
    utilization_rate = RateField(source="utilization.rate", allow_null=True)
    indicators = serializers.SerializerMethodField()

    def get_indicators(self, point) -> dict[str, float | None]:
        return {code: None if r.rate is None else four_places(r.rate) for code, r in point.ratios.items()}


class DistrictSeriesOut(PeriodOut):
    district = PlaceOut()
    granularity = serializers.CharField()
    target = serializers.FloatField(allow_null=True)
    indicators = IndicatorsField()
    points = SeriesPointOut(many=True)


class CommunityStatsOut(serializers.Serializer):
    community = PlaceOut()
    suppressed = serializers.BooleanField()
    households = serializers.IntegerField(allow_null=True)
    participating_households = serializers.IntegerField(allow_null=True)
    participation_rate = RateField(allow_null=True)
    drops = serializers.IntegerField(allow_null=True)
    accuracy_rate = RateField(allow_null=True)
    deposits_kg = KilogramsField(source="deposited_g", allow_null=True)
    indicators = IndicatorsField(allow_null=True)
    carbon = serializers.SerializerMethodField()

    @extend_schema_field(CarbonOut(allow_null=True))
    def get_carbon(self, row) -> dict | None:
        return None if row.suppressed else _carbon_of(self, row.community.id)


class CommunityStatsListOut(serializers.Serializer):
    results = CommunityStatsOut(many=True)
    next = serializers.CharField(allow_null=True, default=None)
    previous = serializers.CharField(allow_null=True, default=None)


class SeriesQueryIn(serializers.Serializer):
    granularity = serializers.ChoiceField(choices=selectors.GRANULARITIES, default="day")


class DistrictSettingsIn(serializers.Serializer):
    incineration_counts_as_recovery = serializers.BooleanField()


class DistrictSettingsOut(serializers.Serializer):
    district_id = serializers.IntegerField()
    incineration_counts_as_recovery = serializers.BooleanField()


class TargetOut(serializers.Serializer):
    year = serializers.IntegerField()
    target = serializers.FloatField(source="value")
    source = serializers.CharField()


class IndicatorTermOut(serializers.Serializer):
    kind = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    destinations = serializers.ListField(child=serializers.CharField())
    only_if_setting = serializers.CharField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["categories"], data["destinations"] = sorted(data["categories"]), sorted(data["destinations"])
        return data


class IndicatorEntryOut(serializers.Serializer):
    code = serializers.CharField(source="indicator.code")
    name = serializers.CharField(source="indicator.name")
    label = serializers.CharField(source="indicator.label")
    wording = serializers.CharField(source="indicator.wording")
    numerator = IndicatorTermOut(many=True, source="indicator.numerator")
    denominator = IndicatorTermOut(many=True, source="indicator.denominator")
    target = serializers.FloatField(source="target.value", allow_null=True, default=None)
    target_year = serializers.IntegerField(source="target.year", allow_null=True, default=None)
    target_source = serializers.CharField(source="target.source", allow_null=True, default=None)
    targets = TargetOut(many=True)


class IndicatorCatalogueOut(serializers.Serializer):
    city = PlaceOut(allow_null=True)
    year = serializers.IntegerField()
    results = IndicatorEntryOut(many=True)


class IndicatorQueryIn(serializers.Serializer):
    city = IdField(required=False)
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)


class IndicatorTargetIn(serializers.Serializer):
    city_id = IdField(required=False, allow_null=True)
    # Range checked by the service, so an out-of-range share answers its own code (bad_target).
    target = serializers.DecimalField(max_digits=12, decimal_places=4)


class IndicatorTargetOut(serializers.Serializer):
    city_id = serializers.IntegerField()
    indicator = serializers.CharField()
    year = serializers.IntegerField()
    target = serializers.FloatField()
    updated_at = serializers.DateTimeField()


# ---- helpers -----------------------------------------------------------------------------------


def _collection_values(data: dict) -> services.CollectionValues:
    district = get_object_or_404(District, pk=data["district_id"])
    community = None
    if data.get("community_id"):
        community = get_object_or_404(Community, pk=data["community_id"])
    plant = get_object_or_404(Plant, pk=data["plant_id"]) if data.get("plant_id") else None
    return services.CollectionValues(
        district=district,
        community=community,
        category=data["category"],
        weight_g=int((data["weight_kg"] * 1000).to_integral_value()),
        date=data["date"],
        destination=data["destination"],
        reference=data.get("reference", ""),
        note=data.get("note", ""),
        plant=plant,
        pickup_ids=tuple(data.get("pickup_ids") or ()),
    )


def _period(request):
    return selectors.parse_period(request.query_params.get("from"), request.query_params.get("to"))


# ---- views -------------------------------------------------------------------------------------


class CollectionListCreateView(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = CollectionOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Collection.objects.none()
        query = CollectionQueryIn(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.visible_collections(self.request.user).filter(
            **{key: value for key, value in query.validated_data.items() if value}
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("district", OpenApiTypes.INT),
            OpenApiParameter("category", OpenApiTypes.STR, enum=WasteCategory.values),
            OpenApiParameter("destination", OpenApiTypes.STR, enum=Destination.values),
            OpenApiParameter("plant", OpenApiTypes.INT),
        ],
        responses=CollectionOut(many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=CollectionIn, responses={201: CollectionOut})
    def post(self, request):
        data = CollectionIn(data=request.data)
        data.is_valid(raise_exception=True)
        collection = services.record_collection(
            actor=request.user, values=_collection_values(data.validated_data)
        )
        return Response(CollectionOut(collection).data, status=status.HTTP_201_CREATED)


class CollectionCorrectView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(request=CollectionCorrectIn, responses={201: CollectionCorrectionOut})
    def post(self, request, collection_id: int):
        data = CollectionCorrectIn(data=request.data)
        data.is_valid(raise_exception=True)
        replacement = data.validated_data.get("replacement")
        correction = services.correct_collection(
            actor=request.user,
            collection_id=collection_id,
            replacement=_collection_values(replacement) if replacement else None,
            note=data.validated_data["note"],
        )
        body = {"reversal": correction.reversal, "replacement": correction.replacement}
        return Response(CollectionCorrectionOut(body).data, status=status.HTTP_201_CREATED)


class CollectionImportView(APIView):
    permission_classes = [IsStaffMember]
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": CollectionImportIn}, responses={200: CollectionImportOut})
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise BadCsv(fields={"file": [_("Attach the weighbridge CSV as the field 'file'.")]})
        result = services.import_collections(actor=request.user, data=upload.read())
        body = {
            "created": len(result.created),
            "ids": [c.id for c in result.created],
            "errors": result.errors,
        }
        return Response(CollectionImportOut(body).data)


class DistrictStatsListView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(parameters=PERIOD_PARAMS, responses=DistrictStatsListOut)
    def get(self, request):
        start, end = _period(request)
        table = selectors.district_table(request.user, start, end)
        return Response(DistrictStatsListOut(table, context={"carbon": table.carbon}).data)


class DistrictSeriesView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=[
            OpenApiParameter("granularity", OpenApiTypes.STR, enum=list(selectors.GRANULARITIES)),
            *PERIOD_PARAMS,
        ],
        responses=DistrictSeriesOut,
    )
    def get(self, request, district_id: int):
        query = SeriesQueryIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        granularity = query.validated_data["granularity"]
        start, end = _period(request)
        series = selectors.district_series(request.user, district_id, granularity, start, end)
        return Response(DistrictSeriesOut(series).data)


class DistrictCommunitiesStatsView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(parameters=PERIOD_PARAMS, responses=CommunityStatsListOut)
    def get(self, request, district_id: int):
        start, end = _period(request)
        rows = selectors.community_rows(request.user, district_id, start, end)
        context = carbon_context([district_id], start, end, by="community_id")
        return Response(CommunityStatsListOut({"results": rows}, context=context).data)


class DistrictSettingsView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=DistrictSettingsOut)
    def get(self, request, district_id: int):
        district = selectors.visible_district(request.user, district_id)
        value = selectors.incineration_settings([district.id]).get(district.id, False)
        return Response(
            DistrictSettingsOut({"district_id": district.id, "incineration_counts_as_recovery": value}).data
        )

    @extend_schema(request=DistrictSettingsIn, responses=DistrictSettingsOut)
    def put(self, request, district_id: int):
        district = selectors.visible_district(request.user, district_id)
        data = DistrictSettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.set_incineration_counts(
            actor=request.user,
            district=district,
            value=data.validated_data["incineration_counts_as_recovery"],
        )
        return Response(DistrictSettingsOut(saved).data)


class StageOut(serializers.Serializer):
    deposited_kg = KilogramsField(source="deposited_g")
    picked_up_kg = KilogramsField(source="picked_up_g")
    shrinkage_kg = KilogramsField(source="shrinkage_g")
    shrinkage_rate = RateField(allow_null=True)
    over_tolerance = serializers.BooleanField()
    flagged_lines = serializers.IntegerField()


class KioskBalanceOut(StageOut):
    kiosk_id = serializers.IntegerField()
    kiosk = serializers.CharField(source="kiosk_name")
    community_id = serializers.IntegerField()


class CommunityBalanceOut(StageOut):
    community_id = serializers.IntegerField()


class DistrictBalanceOut(StageOut):
    tolerance = serializers.FloatField()
    picked_up_received_kg = KilogramsField(source="picked_up_received_g")
    received_kg = KilogramsField(source="received_g")
    transit_shrinkage_rate = RateField(allow_null=True)
    communities = CommunityBalanceOut(many=True)
    kiosks = KioskBalanceOut(many=True)


class ExplainPickupOut(serializers.Serializer):
    id = serializers.IntegerField(source="pickup.id")
    kiosk_id = serializers.IntegerField(source="pickup.kiosk_id")
    collected_at = serializers.DateTimeField(source="pickup.collected_at")
    picked_up_kg = serializers.SerializerMethodField()
    deposited_kg = serializers.SerializerMethodField()

    def get_picked_up_kg(self, link) -> float:
        return kilograms(sum(line.weight_g for line in link.pickup.lines.all()))

    def get_deposited_kg(self, link) -> float:
        return kilograms(sum(line.expected_g for line in link.pickup.lines.all()))


class ExplainFlowOut(serializers.Serializer):
    collection_id = serializers.IntegerField(source="id")
    date = serializers.DateField()
    category = serializers.CharField()
    destination = serializers.CharField()
    weight_kg = KilogramsField(source="weight_g")
    source = serializers.CharField()
    plant_id = serializers.IntegerField(allow_null=True)
    plant = serializers.CharField(source="plant.name", allow_null=True, default=None)
    reference = serializers.CharField()
    in_numerator = serializers.BooleanField()
    pickups = ExplainPickupOut(many=True, source="pickup_links.all")


class ExplainQueryIn(serializers.Serializer):
    side = serializers.ChoiceField(
        choices=["numerator", "denominator"], required=False, default="denominator"
    )


class IndicatorExplainView(generics.GenericAPIView):
    """The flows behind one indicator of a district: the figure, then its tickets page by page."""

    permission_classes = [IsStaffMember]
    serializer_class = ExplainFlowOut

    @extend_schema(
        parameters=[
            *PERIOD_PARAMS,
            OpenApiParameter("side", OpenApiTypes.STR, enum=["numerator", "denominator"]),
        ],
        responses=inline_serializer(
            "IndicatorExplainOut",
            {
                "district": PlaceOut(),
                "indicator": IndicatorOut(),
                "from": serializers.DateField(),
                "to": serializers.DateField(),
                "count": serializers.IntegerField(),
                "results": ExplainFlowOut(many=True),
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
            },
        ),
    )
    def get(self, request, district_id: int, code: str):
        query = ExplainQueryIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = _period(request)
        explanation = selectors.explain_indicator(
            request.user, district_id, code, start, end, side=query.validated_data["side"]
        )
        page = self.paginate_queryset(explanation.flows)
        response = self.get_paginated_response(ExplainFlowOut(page, many=True).data)
        response.data = {
            "district": PlaceOut(explanation.district).data,
            "indicator": IndicatorOut(explanation.figure).data,
            "from": start,
            "to": end,
            **response.data,
        }
        return response


class DistrictBalanceView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(parameters=PERIOD_PARAMS, responses=DistrictBalanceOut)
    def get(self, request, district_id: int):
        start, end = _period(request)
        return Response(
            DistrictBalanceOut(selectors.mass_balance(request.user, district_id, start, end)).data
        )


class HazardousOut(PeriodOut):
    """Hazardous waste put out separately, and how much of it is accounted for by closed manifests."""

    district = PlaceOut()
    deposited_kg = KilogramsField(source="deposited_g")
    picked_up_kg = KilogramsField(source="picked_up_g")
    unmanifested_pickups = serializers.IntegerField()
    unmanifested_kg = KilogramsField(source="unmanifested_g")
    manifests = serializers.IntegerField()
    handed_over_kg = KilogramsField(source="handed_over_g")
    received_kg = KilogramsField(source="received_g")
    open_manifests = serializers.IntegerField()
    in_custody_kg = KilogramsField(source="in_custody_g")
    overdue_manifests = serializers.IntegerField()
    overdue_days = serializers.IntegerField()
    flagged_handovers = serializers.IntegerField()
    collected_kg = KilogramsField(source="collected_g")


class DistrictHazardousView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(parameters=PERIOD_PARAMS, responses=HazardousOut)
    def get(self, request, district_id: int):
        start, end = _period(request)
        return Response(HazardousOut(selectors.hazardous_figures(request.user, district_id, start, end)).data)


TARGET_YEARS = {"min_value": 2000, "max_value": 2100}


def _target_year(year: int) -> int:
    if not TARGET_YEARS["min_value"] <= year <= TARGET_YEARS["max_value"]:
        raise serializers.ValidationError({"year": [_("A target year lies between 2000 and 2100.")]})
    return year


class IndicatorListView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=[
            OpenApiParameter("city", OpenApiTypes.INT, description="default: the caller's city"),
            OpenApiParameter(
                "year", OpenApiTypes.INT, description="the year targets are read for; default this year"
            ),
        ],
        responses=IndicatorCatalogueOut,
    )
    def get(self, request):
        query = IndicatorQueryIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        catalogue = selectors.indicator_catalogue(
            request.user, query.validated_data.get("city"), query.validated_data.get("year")
        )
        return Response(IndicatorCatalogueOut(catalogue).data)


class IndicatorTargetView(APIView):
    permission_classes = [IsCityOfficer]

    @extend_schema(request=IndicatorTargetIn, responses=IndicatorTargetOut)
    def put(self, request, code: str, year: int):
        data = IndicatorTargetIn(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.set_indicator_target(
            actor=request.user,
            indicator_code=code,
            year=_target_year(year),
            target=data.validated_data["target"],
            city_id=data.validated_data.get("city_id"),
        )
        return Response(IndicatorTargetOut(saved).data)

    @extend_schema(
        parameters=[OpenApiParameter("city", OpenApiTypes.INT, description="default: the caller's city")],
        responses={204: None},
    )
    def delete(self, request, code: str, year: int):
        query = IndicatorQueryIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        services.clear_indicator_target(
            actor=request.user,
            indicator_code=code,
            year=_target_year(year),
            city_id=query.validated_data.get("city"),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


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
    *(f"collected_{category}_kg" for category in selectors.CATEGORIES),
    "recovered_kg",
    "handled_kg",
    "utilization_rate",
    *(f"collected_{category}_{destination}_kg" for category, destination in selectors.ROUTES),
    *(
        column
        for code in selectors.INDICATOR_CODES
        for column in (f"{code}_numerator_kg", f"{code}_denominator_kg", code, f"{code}_target")
    ),
]


def _rate_cell(ratio) -> float | str:
    return "" if ratio.rate is None else four_places(ratio.rate)


def export_line(row: selectors.ExportDay) -> list:
    """One CSV line, in EXPORT_COLUMNS order; a day with nothing handled has an empty rate."""
    use = row.utilization
    return [
        row.day.isoformat(),
        row.district_id,
        row.district_name,
        row.drops,
        row.accepted_drops,
        row.verdicts,
        row.correct_verdicts,
        row.participating_households,
        kilograms(row.deposited_g),
        *(kilograms(row.collected_g[category]) for category in selectors.CATEGORIES),
        kilograms(use.recovered_g),
        kilograms(use.handled_g),
        _rate_cell(use),
        *(kilograms(row.collected_g_by_route[route]) for route in selectors.ROUTES),
        *(
            cell
            for code, ratio in row.ratios.items()
            for cell in (
                kilograms(ratio.recovered_g),
                kilograms(ratio.handled_g),
                _rate_cell(ratio),
                "" if row.targets[code] is None else row.targets[code].value,
            )
        ),
    ]


def _next_lines(iterator, n: int = 500) -> list[str]:
    return list(itertools.islice(iterator, n))


async def _as_async(iterator):
    """Under ASGI, Django would read a sync iterator whole before sending; pull it in batches instead.

    thread_sensitive keeps every batch on the one thread that holds the export's database cursor.
    """
    while chunk := await sync_to_async(_next_lines, thread_sensitive=True)(iterator):
        yield "".join(chunk)


class _Echo:
    def write(self, value):
        return value


class StatsExportView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=PERIOD_PARAMS,
        responses={(200, "text/csv"): inline_serializer("StatsCsv", {"csv": serializers.CharField()})},
    )
    def get(self, request):
        start, end = _period(request)
        writer = csv.writer(_Echo())
        rows = selectors.export_rows(request.user, start, end)

        def lines():
            yield "\ufeff"  # so spreadsheets on Chinese Windows read UTF-8
            yield writer.writerow(EXPORT_COLUMNS)
            for row in rows:
                yield writer.writerow(safe_line(export_line(row)))

        body = _as_async(lines()) if isinstance(request._request, ASGIRequest) else lines()
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="greenloop-stats-{start}-{end}.csv"'
        return response
