"""Points, the rewards catalog, redemptions, vouchers, rules and leaderboards over HTTP."""

from datetime import UTC, datetime

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.categories import WasteCategory
from backend.errors import InvalidInput
from backend.idempotency import MAX_KEY_LENGTH
from rewards import selectors, services
from rewards.models import Material, PointRules, Posting, Redemption, Reward

from .fields import IdField
from .pagination import FeedPagination
from .permissions import IsCityOfficer, IsCityOfficerOrSignedInReader, IsMerchant, IsResident

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe key: the same key and body return the first answer.",
)

# ---- serializers -------------------------------------------------------------------------------


class PointsOut(serializers.Serializer):
    balance = serializers.IntegerField()
    earned_total = serializers.IntegerField()
    redeemed_total = serializers.IntegerField()


class LedgerEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    kind = serializers.CharField(source="transaction.kind")
    created_at = serializers.DateTimeField()
    memo = serializers.SerializerMethodField()

    def get_memo(self, posting) -> str:
        return selectors.memo_text(posting.transaction)


class RewardOut(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.name")

    class Meta:
        model = Reward
        fields = [
            "id",
            "name",
            "description",
            "points_cost",
            "stated_value_fen",
            "stock",
            "per_resident_limit",
            "valid_from",
            "valid_until",
            "shop",
            "shop_id",
            "active",
        ]


class RewardIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    points_cost = serializers.IntegerField(min_value=1, max_value=10_000_000)
    stated_value_fen = serializers.IntegerField(min_value=0, max_value=100_000_000, required=False)
    stock = serializers.IntegerField(min_value=0, max_value=10_000_000)
    per_resident_limit = serializers.IntegerField(
        min_value=1, max_value=10_000, required=False, allow_null=True
    )
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)
    shop_id = IdField()

    def validate(self, attrs):
        if (
            attrs.get("valid_from")
            and attrs.get("valid_until")
            and attrs["valid_until"] <= attrs["valid_from"]
        ):
            raise serializers.ValidationError({"valid_until": _("Must be after valid_from.")})
        return attrs


class RedemptionIn(serializers.Serializer):
    reward_id = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=100, default=1)


class RedemptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    voucher_code = serializers.CharField(allow_null=True)
    points_spent = serializers.IntegerField()
    balance = serializers.IntegerField(required=False)
    reward_id = serializers.IntegerField()
    quantity = serializers.IntegerField()


class RedemptionListOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    voucher_code = serializers.SerializerMethodField()
    points_spent = serializers.IntegerField()
    reward_id = serializers.IntegerField()
    reward_name = serializers.CharField(source="reward.name")
    quantity = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_voucher_code(self, redemption) -> str | None:
        # A closed voucher's code is useless; showing it would only confuse a merchant.
        return redemption.voucher_code if redemption.status == "issued" else None


class FulfilIn(serializers.Serializer):
    voucher_code = serializers.CharField(max_length=400)


class FulfilOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    reward_id = serializers.IntegerField()
    reward_name = serializers.CharField(source="reward.name")
    quantity = serializers.IntegerField()
    fulfilled_at = serializers.DateTimeField()


MATERIAL_FIELDS = "id code name name_en category points_per_kg min_weight_g max_weight_g active".split()
MAX_POINTS_PER_KG = 100_000


class MaterialOut(serializers.ModelSerializer):
    """A material as the reader's city has it: `points_per_kg` is the price in force in that city now,
    null (and `active` false) when the city does not take the material."""

    points_per_kg = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()
    shared = serializers.SerializerMethodField()

    class Meta:
        model = Material
        fields = [*MATERIAL_FIELDS, "shared"]

    def _rules(self):
        return self.context["rules"]

    def get_points_per_kg(self, material) -> int | None:
        return selectors.price_of(self._rules(), material)

    def get_active(self, material) -> bool:
        return selectors.price_of(self._rules(), material) is not None

    def get_shared(self, material) -> bool:
        """Part of the reference catalog every city shares, rather than this city's own."""
        return material.city_id is None


class MaterialIn(serializers.ModelSerializer):
    """Parses a material; the rules between its fields belong to rewards.services."""

    category = serializers.ChoiceField(choices=WasteCategory.choices)
    points_per_kg = serializers.IntegerField(min_value=0, max_value=MAX_POINTS_PER_KG)

    class Meta:
        model = Material
        fields = MATERIAL_FIELDS
        read_only_fields = ["id"]


class MaterialChangeIn(MaterialIn):
    class Meta(MaterialIn.Meta):
        read_only_fields = ["id", "code"]


def material_context(user) -> dict:
    return {"rules": selectors.point_rules_in_force_for(user)}


POINT_RULE_FIELDS = list(selectors.POINT_RULE_FIELDS)

# A version scheduled further ahead than this is a typo, not a plan.
LATEST_VERSION_START = datetime(2199, 12, 31, tzinfo=UTC)


PRICED_MATERIALS_AT_MOST = 200


class PointRulesOut(serializers.ModelSerializer):
    material_prices = serializers.DictField(
        child=serializers.IntegerField(), help_text="Points per kg by material code."
    )

    class Meta:
        model = PointRules
        fields = [
            "version",
            "effective_from",
            *POINT_RULE_FIELDS,
            "material_prices",
            *selectors.CARBON_RULE_FIELDS,
            "created_at",
        ]


class PointRulesIn(serializers.ModelSerializer):
    """The scalar rules; prices go through the materials or, scheduled, through a version."""

    class Meta:
        model = PointRules
        fields = POINT_RULE_FIELDS


class PointRulesVersionIn(PointRulesIn):
    """A new version: the fields it changes, and when it starts (default now)."""

    effective_from = serializers.DateTimeField(required=False)
    material_prices = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_POINTS_PER_KG),
        required=False,
        help_text="The whole price list of the version: points per kg by material code.",
    )

    class Meta(PointRulesIn.Meta):
        fields = [*POINT_RULE_FIELDS, "material_prices", "effective_from"]

    def validate_material_prices(self, value):
        if len(value) > PRICED_MATERIALS_AT_MOST:
            raise serializers.ValidationError(_("At most 200 materials."))
        return value

    def validate_effective_from(self, value):
        if value > LATEST_VERSION_START:
            raise serializers.ValidationError(_("A version starts before the year 2200."))
        return value


class LeaderboardQuery(serializers.Serializer):
    scope = serializers.ChoiceField(choices=selectors.LEADERBOARD_SCOPES, default="community")
    period = serializers.ChoiceField(choices=selectors.LEADERBOARD_PERIODS, default="week")


class LeaderboardRowOut(serializers.Serializer):
    rank = serializers.IntegerField()
    display_name = serializers.CharField()
    points = serializers.IntegerField()


class LeaderboardOut(serializers.Serializer):
    scope = serializers.CharField()
    period = serializers.CharField()
    since = serializers.DateTimeField()
    results = LeaderboardRowOut(many=True)


# ---- views -------------------------------------------------------------------------------------


class MePointsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PointsOut)
    def get(self, request):
        return Response(PointsOut(selectors.points_summary(request.user)).data)


class MeLedgerView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = LedgerEntryOut
    pagination_class = FeedPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Posting.objects.none()
        return selectors.ledger_feed(self.request.user)


class RewardListCreateView(generics.ListAPIView):
    serializer_class = RewardOut

    def get_permissions(self):
        return [IsCityOfficer()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reward.objects.none()
        return selectors.catalog_for(self.request.user)

    @extend_schema(request=RewardIn, responses={201: RewardOut})
    def post(self, request):
        data = RewardIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        # A city officer stocks the shops of their own city only.
        values["shop"] = get_object_or_404(selectors.shops_visible_to(request.user), pk=values.pop("shop_id"))
        reward = services.create_reward(**values)
        return Response(RewardOut(reward).data, status=status.HTTP_201_CREATED)


class RedemptionListCreateView(generics.ListAPIView):
    permission_classes = [IsResident]
    serializer_class = RedemptionListOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Redemption.objects.none()
        return selectors.redemptions_of(self.request.user)

    @extend_schema(request=RedemptionIn, responses={201: RedemptionOut}, parameters=[IDEMPOTENCY_HEADER])
    def post(self, request):
        data = RedemptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (1 <= len(key) <= MAX_KEY_LENGTH):
            raise InvalidInput(
                _("Idempotency-Key must be 1 to %(longest)s characters.") % {"longest": MAX_KEY_LENGTH}
            )
        result = services.redeem_reward(
            resident=request.user,
            reward_id=data.validated_data["reward_id"],
            quantity=data.validated_data["quantity"],
            idempotency_key=key,
        )
        return Response(RedemptionOut(result.body).data, status=status.HTTP_201_CREATED)


class RedemptionCancelView(APIView):
    permission_classes = [IsResident]

    @extend_schema(request=None, responses=RedemptionOut)
    def post(self, request, redemption_id: int):
        redemption, balance = services.cancel_redemption(resident=request.user, redemption_id=redemption_id)
        body = {
            "id": redemption.pk,
            "status": redemption.status,
            "voucher_code": None,
            "points_spent": redemption.points_spent,
            "balance": balance,
            "reward_id": redemption.reward_id,
            "quantity": redemption.quantity,
        }
        return Response(RedemptionOut(body).data)


class RedemptionFulfilView(APIView):
    permission_classes = [IsMerchant]

    @extend_schema(request=FulfilIn, responses=FulfilOut)
    def post(self, request):
        data = FulfilIn(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.fulfil_voucher(
            merchant=request.user, voucher_code=data.validated_data["voucher_code"]
        )
        return Response(FulfilOut(redemption).data)


class MaterialListCreateView(generics.ListAPIView):
    permission_classes = [IsCityOfficerOrSignedInReader]
    serializer_class = MaterialOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Material.objects.none()
        return selectors.materials_visible_to(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context |= material_context(self.request.user)
        return context

    @extend_schema(
        request=MaterialIn,
        responses={201: MaterialOut},
        description="Adds a material of the officer's city, priced in a new version of its rules.",
    )
    def post(self, request):
        data = MaterialIn(data=request.data)
        data.is_valid(raise_exception=True)
        material = services.create_material(actor=request.user, **data.validated_data)
        return Response(
            MaterialOut(material, context=material_context(request.user)).data, status=status.HTTP_201_CREATED
        )


class MaterialDetailView(APIView):
    permission_classes = [IsCityOfficerOrSignedInReader]

    @extend_schema(responses=MaterialOut)
    def get(self, request, code: str):
        material = get_object_or_404(selectors.materials_visible_to(request.user), code=code)
        return Response(MaterialOut(material, context=material_context(request.user)).data)

    @extend_schema(
        request=MaterialChangeIn,
        responses=MaterialOut,
        description=(
            "`points_per_kg` and `active` change the officer's city's price list (a new version of its "
            "rules); the other fields of a shared reference material only an administrator changes "
            "(403 shared_material)."
        ),
    )
    def patch(self, request, code: str):
        data = MaterialChangeIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        material = services.update_material(actor=request.user, code=code, **data.validated_data)
        return Response(MaterialOut(material, context=material_context(request.user)).data)


class PointRulesView(APIView):
    permission_classes = [IsCityOfficerOrSignedInReader]

    @extend_schema(responses=PointRulesOut)
    def get(self, request):
        return Response(PointRulesOut(selectors.point_rules_in_force_for(request.user)).data)

    @extend_schema(
        request=PointRulesIn,
        responses=PointRulesOut,
        description=(
            "Adds a version in force once every process holds it (POINT_RULES_PROPAGATION_SECONDS from "
            "now); the fields not given keep the latest version's values."
        ),
    )
    def patch(self, request):
        data = PointRulesIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rules = services.update_point_rules(actor=request.user, **data.validated_data)
        return Response(PointRulesOut(rules).data)


class PointRulesVersionsView(APIView):
    permission_classes = [IsCityOfficerOrSignedInReader]

    @extend_schema(
        responses=PointRulesOut(many=True), description="Every version of the city's rules, newest first."
    )
    def get(self, request):
        return Response(PointRulesOut(selectors.rule_versions_for(request.user), many=True).data)

    @extend_schema(
        request=PointRulesVersionIn,
        responses={201: PointRulesOut},
        description=(
            "Schedules a version (default and earliest: POINT_RULES_PROPAGATION_SECONDS from now); "
            "400 version_in_past, unknown_material; 409 version_overlaps."
        ),
    )
    def post(self, request):
        data = PointRulesVersionIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rules = services.create_point_rules_version(actor=request.user, **data.validated_data)
        return Response(PointRulesOut(rules).data, status=status.HTTP_201_CREATED)


class LeaderboardView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[LeaderboardQuery], responses=LeaderboardOut)
    def get(self, request):
        query = LeaderboardQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope, period = query.validated_data["scope"], query.validated_data["period"]
        rows = selectors.leaderboard_for(request.user, scope=scope, period=period)
        body = {"scope": scope, "period": period, "since": selectors.period_start(period), "results": rows}
        return Response(LeaderboardOut(body).data)
