"""Shops, their merchants and what the city owes them, over HTTP."""

import csv
import io

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import city_of
from geo.models import District
from rewards import selectors, services
from rewards.models import Shop

from .csv_cells import safe_line
from .fields import BoundedDateField, IdField
from .permissions import IsCityOfficer, IsDistrictOfficer

# ---- serializers -------------------------------------------------------------------------------


class ShopIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    district_id = IdField(required=False, allow_null=True)


class ShopPatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    district_id = IdField(required=False, allow_null=True)


class MerchantIn(serializers.Serializer):
    merchant_id = IdField()


class ShopMerchantOut(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField(source="shown_name")
    phone = serializers.CharField(source="masked_phone")


class ShopOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    city_id = serializers.IntegerField(allow_null=True)
    district_id = serializers.IntegerField(allow_null=True)
    merchants = ShopMerchantOut(many=True, source="merchants.all")
    created_at = serializers.DateTimeField()


class SettlementQuery(serializers.Serializer):
    """`from` and `to` (YYYY-MM-DD, both inclusive) are Python keywords, so declared in get_fields,
    which the schema reads too."""

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = BoundedDateField()
        fields["to"] = BoundedDateField()
        return fields

    def validate(self, attrs):
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": [_("The period ends before it starts.")]})
        return attrs


class LiabilityQuery(serializers.Serializer):
    as_of = BoundedDateField(required=False)


class SettlementTotalsOut(serializers.Serializer):
    vouchers = serializers.IntegerField()
    units = serializers.IntegerField()
    points = serializers.IntegerField()
    stated_value_fen = serializers.IntegerField()


class SettlementRewardOut(SettlementTotalsOut):
    reward_id = serializers.IntegerField()
    reward = serializers.CharField()


class SettlementVoucherOut(serializers.Serializer):
    id = serializers.IntegerField()
    reward_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    points_spent = serializers.IntegerField()
    stated_value_fen = serializers.SerializerMethodField()
    fulfilled_at = serializers.DateTimeField()

    def get_stated_value_fen(self, voucher) -> int:
        return voucher.quantity * voucher.reward.stated_value_fen


class SettlementOut(serializers.Serializer):
    shop_id = serializers.IntegerField()
    shop = serializers.CharField()
    totals = SettlementTotalsOut()
    rewards = SettlementRewardOut(many=True)
    vouchers = SettlementVoucherOut(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(source="start")
        fields["to"] = serializers.DateField(source="end")
        return fields


class LiabilityOut(serializers.Serializer):
    city_id = serializers.IntegerField()
    as_of = serializers.DateField()
    points_held = serializers.IntegerField()
    vouchers_outstanding = serializers.IntegerField()
    voucher_points_outstanding = serializers.IntegerField()
    total_points = serializers.IntegerField()


# ---- helpers -----------------------------------------------------------------------------------


def _visible_shop(request, shop_id: int) -> Shop:
    return get_object_or_404(selectors.shops_visible_to(request.user), pk=shop_id)


def _managed_shop(request, shop_id: int) -> Shop:
    """A shop the caller may change: city officers their city's (404 for any other, as for readers)."""
    return _visible_shop(request, shop_id)


def _district(value):
    return None if value is None else get_object_or_404(District, pk=value)


def _period(request):
    query = SettlementQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    return selectors.checked_period(query.validated_data["from"], query.validated_data["to"])


SETTLEMENT_COLUMNS = [
    "voucher_id",
    "fulfilled_at",
    "reward_id",
    "reward",
    "quantity",
    "points",
    "stated_value_fen",
]


def settlement_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SETTLEMENT_COLUMNS)
    for voucher in report["vouchers"]:
        writer.writerow(
            safe_line(
                (
                    voucher.pk,
                    voucher.fulfilled_at.isoformat(),
                    voucher.reward_id,
                    voucher.reward.name,
                    voucher.quantity,
                    voucher.points_spent,
                    voucher.quantity * voucher.reward.stated_value_fen,
                )
            )
        )
    totals = report["totals"]
    writer.writerow(["total", "", "", "", totals["units"], totals["points"], totals["stated_value_fen"]])
    return "\ufeff" + out.getvalue()  # so spreadsheets on Chinese Windows read UTF-8


SHOP_PERIOD = [SettlementQuery]

# ---- views -------------------------------------------------------------------------------------


class ShopListCreateView(generics.ListAPIView):
    serializer_class = ShopOut

    def get_permissions(self):
        return [IsCityOfficer()] if self.request.method == "POST" else [IsDistrictOfficer()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Shop.objects.none()
        return selectors.shops_visible_to(self.request.user)

    @extend_schema(request=ShopIn, responses={201: ShopOut})
    def post(self, request):
        data = ShopIn(data=request.data)
        data.is_valid(raise_exception=True)
        shop = services.create_shop(
            actor=request.user,
            name=data.validated_data["name"],
            district=_district(data.validated_data.get("district_id")),
        )
        return Response(ShopOut(shop).data, status=status.HTTP_201_CREATED)


class ShopDetailView(APIView):
    def get_permissions(self):
        return [IsCityOfficer()] if self.request.method == "PATCH" else [IsDistrictOfficer()]

    @extend_schema(responses=ShopOut)
    def get(self, request, shop_id: int):
        return Response(ShopOut(_visible_shop(request, shop_id)).data)

    @extend_schema(request=ShopPatchIn, responses=ShopOut)
    def patch(self, request, shop_id: int):
        shop = _managed_shop(request, shop_id)
        data = ShopPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "district_id" in fields:
            fields["district"] = _district(fields.pop("district_id"))
        shop = services.update_shop(actor=request.user, shop=shop, **fields)
        return Response(ShopOut(shop).data)


class ShopMerchantAddView(APIView):
    permission_classes = [IsCityOfficer]

    @extend_schema(request=MerchantIn, responses=ShopOut)
    def post(self, request, shop_id: int):
        shop = _managed_shop(request, shop_id)
        data = MerchantIn(data=request.data)
        data.is_valid(raise_exception=True)
        merchant = get_object_or_404(User, pk=data.validated_data["merchant_id"])
        shop = services.add_merchant(shop=shop, merchant=merchant)
        return Response(ShopOut(Shop.objects.get(pk=shop.pk)).data)


class ShopMerchantRemoveView(APIView):
    permission_classes = [IsCityOfficer]

    @extend_schema(request=None, responses=ShopOut)
    def delete(self, request, shop_id: int, merchant_id: int):
        shop = _managed_shop(request, shop_id)
        merchant = get_object_or_404(shop.merchants.all(), pk=merchant_id)
        shop = services.remove_merchant(shop=shop, merchant=merchant)
        return Response(ShopOut(Shop.objects.get(pk=shop.pk)).data)


class ShopSettlementView(APIView):
    permission_classes = [IsDistrictOfficer]

    @extend_schema(parameters=SHOP_PERIOD, responses=SettlementOut)
    def get(self, request, shop_id: int):
        shop = _visible_shop(request, shop_id)
        start, end = _period(request)
        return Response(SettlementOut(selectors.settlement(shop, start, end)).data)


class ShopSettlementCsvView(APIView):
    permission_classes = [IsDistrictOfficer]

    @extend_schema(
        parameters=SHOP_PERIOD,
        responses={(200, "text/csv"): inline_serializer("SettlementCsv", {"csv": serializers.CharField()})},
    )
    def get(self, request, shop_id: int):
        shop = _visible_shop(request, shop_id)
        start, end = _period(request)
        report = selectors.settlement(shop, start, end)
        response = HttpResponse(settlement_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="settlement-shop{shop.pk}-{start}-{end}.csv"'
        return response


class LiabilityView(APIView):
    """The officer's city's outstanding points at the end of a day (default: today)."""

    permission_classes = [IsCityOfficer]

    @extend_schema(parameters=[LiabilityQuery], responses=LiabilityOut)
    def get(self, request):
        query = LiabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        return Response(LiabilityOut(selectors.liability(city_of(request.user), as_of)).data)
