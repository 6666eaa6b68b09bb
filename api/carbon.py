"""Carbon over HTTP: the emission-factor table, the carbon-reduction points rule, a resident's impact."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.categories import Destination, WasteCategory
from kiosks import selectors as kiosk_selectors
from rewards import selectors, services
from rewards.models import EmissionFactor, Material, PointRules

from .permissions import IsCityOfficerOrSignedInReader, IsResident

# ---- serializers -------------------------------------------------------------------------------

FACTOR_BOUND = Decimal(50)


class EmissionFactorOut(serializers.ModelSerializer):
    material = serializers.CharField(source="material.code", allow_null=True, default=None)

    class Meta:
        model = EmissionFactor
        fields = [
            "id",
            "material",
            "category",
            "destination",
            "kg_co2e_per_kg",
            "source",
            "source_year",
            "note",
            "updated_at",
        ]


class EmissionFactorChangeIn(serializers.Serializer):
    kg_co2e_per_kg = serializers.DecimalField(
        max_digits=6, decimal_places=3, min_value=-FACTOR_BOUND, max_value=FACTOR_BOUND
    )
    source = serializers.CharField(max_length=300)
    source_year = serializers.IntegerField(min_value=1990, max_value=2100)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class EmissionFactorIn(EmissionFactorChangeIn):
    material = serializers.SlugRelatedField(
        slug_field="code", queryset=Material.objects.all(), required=False, allow_null=True
    )
    category = serializers.ChoiceField(choices=WasteCategory.choices, required=False, allow_blank=True)
    destination = serializers.ChoiceField(choices=Destination.choices)


class CarbonRuleOut(serializers.ModelSerializer):
    """The carbon part of a version of the city's point rules."""

    enabled = serializers.BooleanField(source="carbon_points_enabled")
    updated_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = PointRules
        fields = ["enabled", "points_per_kg_co2e", "version", "effective_from", "updated_at"]


class CarbonRuleIn(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    points_per_kg_co2e = serializers.IntegerField(min_value=0, max_value=100_000, required=False)


def _kg(grams: int) -> float:
    return round(grams / 1000, 3)


class ImpactTotalsOut(serializers.Serializer):
    kg_by_material = serializers.SerializerMethodField()
    kg = serializers.SerializerMethodField()
    co2e_kg = serializers.SerializerMethodField()

    def get_kg_by_material(self, totals) -> dict[str, float]:
        return {code: _kg(grams) for code, grams in totals.grams_by_material.items()}

    def get_kg(self, totals) -> float:
        return _kg(totals.grams)

    def get_co2e_kg(self, totals) -> float:
        return _kg(totals.co2e_grams)


class CommunityRankOut(serializers.Serializer):
    community_id = serializers.IntegerField()
    position = serializers.IntegerField()
    of = serializers.IntegerField()


class ImpactOut(serializers.Serializer):
    month_start = serializers.DateTimeField()
    this_month = ImpactTotalsOut()
    all_time = ImpactTotalsOut()
    rank = CommunityRankOut(allow_null=True)


# ---- views -------------------------------------------------------------------------------------


class EmissionFactorListCreateView(generics.ListAPIView):
    permission_classes = [IsCityOfficerOrSignedInReader]
    serializer_class = EmissionFactorOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EmissionFactor.objects.none()
        return selectors.emission_factors_for(self.request.user)

    @extend_schema(request=EmissionFactorIn, responses={201: EmissionFactorOut})
    def post(self, request):
        data = EmissionFactorIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        factor = services.create_emission_factor(
            actor=request.user,
            material=values.pop("material", None),
            category=values.pop("category", ""),
            destination=values.pop("destination"),
            **values,
        )
        return Response(EmissionFactorOut(factor).data, status=status.HTTP_201_CREATED)


class EmissionFactorDetailView(APIView):
    permission_classes = [IsCityOfficerOrSignedInReader]

    @extend_schema(responses=EmissionFactorOut)
    def get(self, request, factor_id: int):
        factor = get_object_or_404(selectors.emission_factors_for(request.user), pk=factor_id)
        return Response(EmissionFactorOut(factor).data)

    @extend_schema(request=EmissionFactorChangeIn, responses=EmissionFactorOut)
    def patch(self, request, factor_id: int):
        data = EmissionFactorChangeIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        factor = services.update_emission_factor(
            actor=request.user, factor_id=factor_id, **data.validated_data
        )
        return Response(EmissionFactorOut(factor).data)


class CarbonRuleView(APIView):
    permission_classes = [IsCityOfficerOrSignedInReader]

    @extend_schema(responses=CarbonRuleOut)
    def get(self, request):
        return Response(CarbonRuleOut(selectors.point_rules_in_force_for(request.user)).data)

    @extend_schema(
        request=CarbonRuleIn,
        responses=CarbonRuleOut,
        description="Adds a version of the city's point rules, in force POINT_RULES_PROPAGATION_SECONDS from now.",
    )
    def patch(self, request):
        data = CarbonRuleIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = services.update_carbon_rule(actor=request.user, **data.validated_data)
        return Response(CarbonRuleOut(rule).data)


class MeImpactView(APIView):
    permission_classes = [IsResident]

    @extend_schema(responses=ImpactOut)
    def get(self, request):
        return Response(ImpactOut(kiosk_selectors.impact_of(request.user)).data)
