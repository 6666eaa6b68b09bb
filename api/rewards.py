"""Points, the rewards catalog, redemptions, vouchers, rules and leaderboards over HTTP."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.categories import WasteCategory
from backend.errors import InvalidInput
from rewards import selectors, services
from rewards.models import Material, PointRules, Posting, Redemption, Reward, Shop

from .fields import IdField
from .pagination import FeedPagination
from .permissions import IsCityOfficer, IsMerchant, IsResident

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
    memo = serializers.CharField(source="transaction.memo")


class RewardOut(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.name")

    class Meta:
        model = Reward
        fields = [
            "id",
            "name",
            "description",
            "points_cost",
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
            raise serializers.ValidationError({"valid_until": "Must be after valid_from."})
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


class MaterialSerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=WasteCategory.choices)

    class Meta:
        model = Material
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "category",
            "points_per_kg",
            "min_weight_g",
            "max_weight_g",
            "active",
        ]
        read_only_fields = ["id"]

    def validate(self, attrs):
        low = attrs.get("min_weight_g", getattr(self.instance, "min_weight_g", 1))
        high = attrs.get("max_weight_g", getattr(self.instance, "max_weight_g", 100_000))
        if low > high:
            raise serializers.ValidationError({"max_weight_g": "Must not be below min_weight_g."})
        return attrs


class PointRulesSerializer(serializers.ModelSerializer):
    class Meta:
        model = PointRules
        fields = [
            "points_per_accepted_drop",
            "resident_daily_drop_points_cap",
            "resident_daily_deposit_points_cap",
            "kiosk_daily_points_cap",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


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
        return selectors.catalog()

    @extend_schema(request=RewardIn, responses={201: RewardOut})
    def post(self, request):
        data = RewardIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["shop"] = get_object_or_404(Shop, pk=values.pop("shop_id"))
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
        if key is not None and not (1 <= len(key) <= 100):
            raise InvalidInput("Idempotency-Key must be 1 to 100 characters.")
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


class MaterialListCreateView(generics.ListCreateAPIView):
    permission_classes = [IsCityOfficer]
    serializer_class = MaterialSerializer
    queryset = Material.objects.order_by("code")


class MaterialDetailView(generics.RetrieveUpdateAPIView):
    permission_classes = [IsCityOfficer]
    serializer_class = MaterialSerializer
    queryset = Material.objects.all()
    lookup_field = "code"
    http_method_names = ["get", "patch"]


def _city_of(user):

    city_id = user.city_id or (user.district.city_id if user.district_id else None)
    if city_id is None:
        from geo.models import City

        city_id = City.objects.order_by("id").values_list("id", flat=True).first()
    return selectors.rules_for_city(city_id)


class PointRulesView(APIView):
    permission_classes = [IsCityOfficer]

    @extend_schema(responses=PointRulesSerializer)
    def get(self, request):
        return Response(PointRulesSerializer(_city_of(request.user)).data)

    @extend_schema(request=PointRulesSerializer, responses=PointRulesSerializer)
    def patch(self, request):
        data = PointRulesSerializer(_city_of(request.user), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        data.save()
        return Response(data.data)


class LeaderboardView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("scope", str, enum=["community", "district"], required=False),
            OpenApiParameter("period", str, enum=["week", "month"], required=False),
        ],
        responses=LeaderboardOut,
    )
    def get(self, request):
        scope = request.query_params.get("scope", "community")
        period = request.query_params.get("period", "week")
        if scope not in {"community", "district"} or period not in {"week", "month"}:
            raise InvalidInput(
                "scope must be community or district; period must be week or month.",
                fields={"scope": ["community | district"], "period": ["week | month"]},
            )
        user = request.user
        community = user.household.community if user.household_id else None
        district_id = community.district_id if community else user.district_id
        if (scope == "community" and community is None) or (scope == "district" and district_id is None):
            raise InvalidInput("You have no community or district to rank in: join a household first.")
        rows = selectors.leaderboard(
            scope=scope,
            period=period,
            community_id=community.id if community else None,
            district_id=district_id,
        )
        body = {"scope": scope, "period": period, "since": selectors.period_start(period), "results": rows}
        return Response(LeaderboardOut(body).data)
