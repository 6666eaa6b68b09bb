"""Custody over HTTP: kiosk pickups (signed by the kiosk or entered by staff), destination plants, and
hazardous waste manifests from hand-over to a licensed handler until it closes."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from geo.models import District
from kiosks import selectors as kiosk_selectors
from kiosks import services as kiosk_services
from kiosks.models import Pickup
from stats import selectors as stats_selectors
from stats import services as stats_services
from stats.models import CustodyHandover, Destination, HazardousManifest, Plant

from .fields import IdField
from .kiosks import SIGNED_HEADERS, SignedKioskView
from .permissions import IsStaffMember


class PickupLineIn(serializers.Serializer):
    material = serializers.CharField(max_length=32)
    weight_g = serializers.IntegerField(min_value=1, max_value=10_000_000)


class PickupIn(serializers.Serializer):
    pickup_id = serializers.UUIDField()
    collected_at = serializers.DateTimeField()
    lines = PickupLineIn(many=True, allow_empty=False, max_length=50)
    collector_id = IdField(required=False, allow_null=True)


class StaffPickupIn(PickupIn):
    kiosk_id = IdField()


class PickupLineOut(serializers.Serializer):
    material = serializers.CharField(source="material.code")
    weight_g = serializers.IntegerField()
    expected_g = serializers.IntegerField()
    flagged = serializers.BooleanField()


class PickupOut(serializers.Serializer):
    id = serializers.IntegerField()
    pickup_id = serializers.UUIDField()
    kiosk_id = serializers.IntegerField()
    collector_id = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()
    collected_at = serializers.DateTimeField()
    lines = PickupLineOut(many=True)


def _lines(data) -> dict[str, int]:
    lines: dict[str, int] = {}
    for line in data["lines"]:
        if line["material"] in lines:
            raise serializers.ValidationError({"lines": [_("One line per material.")]})
        lines[line["material"]] = line["weight_g"]
    return lines


def _collector(data) -> User | None:
    collector_id = data.get("collector_id")
    return get_object_or_404(User, pk=collector_id) if collector_id else None


def _answer(outcome) -> Response:
    pickup = Pickup.objects.prefetch_related("lines__material").get(pk=outcome.pickup.pk)
    return Response(
        PickupOut(pickup).data, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
    )


class KioskPickupCreateView(SignedKioskView):
    @extend_schema(request=PickupIn, responses={201: PickupOut, 200: PickupOut}, parameters=SIGNED_HEADERS)
    def post(self, request):
        data = PickupIn(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = kiosk_services.record_pickup(
            kiosk=request.auth,
            pickup_id=data.validated_data["pickup_id"],
            collected_at=data.validated_data["collected_at"],
            lines=_lines(data.validated_data),
            source=Pickup.Source.KIOSK,
            collector=_collector(data.validated_data),
        )
        return _answer(outcome)


class PickupListCreateView(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = PickupOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pickup.objects.none()
        pickups = kiosk_selectors.pickups_visible_to(self.request.user)
        kiosk = self.request.query_params.get("kiosk")
        return pickups.filter(kiosk_id=kiosk) if kiosk and kiosk.isdigit() else pickups

    @extend_schema(parameters=[OpenApiParameter("kiosk", int)], responses=PickupOut(many=True))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=StaffPickupIn, responses={201: PickupOut, 200: PickupOut})
    def post(self, request):
        data = StaffPickupIn(data=request.data)
        data.is_valid(raise_exception=True)
        kiosk = get_object_or_404(
            kiosk_selectors.kiosks_visible_to(request.user), pk=data.validated_data["kiosk_id"]
        )
        outcome = kiosk_services.record_pickup(
            kiosk=kiosk,
            pickup_id=data.validated_data["pickup_id"],
            collected_at=data.validated_data["collected_at"],
            lines=_lines(data.validated_data),
            source=Pickup.Source.STAFF,
            collector=_collector(data.validated_data) or request.user,
            actor=request.user,
        )
        return _answer(outcome)


class PlantIn(serializers.Serializer):
    district_id = IdField()
    name = serializers.CharField(max_length=100)
    destination = serializers.ChoiceField(choices=Destination.choices)
    licence = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class PlantOut(serializers.Serializer):
    id = serializers.IntegerField()
    district_id = serializers.IntegerField()
    name = serializers.CharField()
    destination = serializers.CharField()
    licence = serializers.CharField()
    active = serializers.BooleanField()


class PlantListCreateView(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = PlantOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Plant.objects.none()
        return stats_selectors.visible_plants(self.request.user)

    @extend_schema(request=PlantIn, responses={201: PlantOut})
    def post(self, request):
        data = PlantIn(data=request.data)
        data.is_valid(raise_exception=True)
        plant = stats_services.create_plant(
            actor=request.user,
            district=get_object_or_404(District, pk=data.validated_data["district_id"]),
            name=data.validated_data["name"],
            destination=data.validated_data["destination"],
            licence=data.validated_data["licence"],
        )
        return Response(PlantOut(plant).data, status=status.HTTP_201_CREATED)


class ManifestIn(serializers.Serializer):
    district_id = IdField()
    handler_id = IdField()
    number = serializers.CharField(max_length=64)
    handed_over_kg = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    handed_over_at = serializers.DateTimeField()
    pickup_ids = serializers.ListField(child=IdField(), required=False, default=list, max_length=500)
    # Who takes the batch at the pickup (default: the one who records it).
    holder = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class HandoverIn(serializers.Serializer):
    holder = serializers.CharField(max_length=100)
    weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    handed_over_at = serializers.DateTimeField()


class HandoverOut(serializers.Serializer):
    sequence = serializers.IntegerField()
    stage = serializers.ChoiceField(choices=CustodyHandover.Stage.choices)
    holder = serializers.CharField()
    weight_g = serializers.IntegerField()
    previous_g = serializers.IntegerField(allow_null=True)
    flagged = serializers.BooleanField()
    handed_over_at = serializers.DateTimeField()
    recorded_by_id = serializers.IntegerField(allow_null=True)


class ManifestCloseIn(serializers.Serializer):
    received_kg = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    date = serializers.DateField()


class ManifestOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    district_id = serializers.IntegerField()
    handler_id = serializers.IntegerField()
    handed_over_g = serializers.IntegerField()
    handed_over_at = serializers.DateTimeField()
    received_g = serializers.IntegerField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    collection_id = serializers.IntegerField(allow_null=True)
    pickup_ids = serializers.SerializerMethodField()
    handovers = serializers.SerializerMethodField()

    def get_pickup_ids(self, manifest) -> list[int]:
        return sorted(link.pickup_id for link in manifest.pickup_links.all())

    @extend_schema_field(HandoverOut(many=True))
    def get_handovers(self, manifest):
        return HandoverOut(sorted(manifest.handovers.all(), key=lambda h: h.sequence), many=True).data


def _grams(kilograms: Decimal) -> int:
    return int((kilograms * 1000).to_integral_value())


class ManifestListCreateView(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = ManifestOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return HazardousManifest.objects.none()
        manifests = stats_selectors.visible_manifests(self.request.user)
        return (
            manifests.filter(closed_at__isnull=True) if self.request.query_params.get("open") else manifests
        )

    @extend_schema(parameters=[OpenApiParameter("open", bool)], responses=ManifestOut(many=True))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ManifestIn, responses={201: ManifestOut})
    def post(self, request):
        data = ManifestIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        manifest = stats_services.open_manifest(
            actor=request.user,
            district=get_object_or_404(District, pk=values["district_id"]),
            handler=get_object_or_404(Plant, pk=values["handler_id"]),
            number=values["number"],
            handed_over_g=_grams(values["handed_over_kg"]),
            handed_over_at=values["handed_over_at"],
            pickup_ids=tuple(values["pickup_ids"]),
            holder=values["holder"],
        )
        return Response(ManifestOut(manifest).data, status=status.HTTP_201_CREATED)


class ManifestHandoverView(APIView):
    """The batch changed hands on its way to the handler (a transfer station), weighed again."""

    permission_classes = [IsStaffMember]

    @extend_schema(request=HandoverIn, responses={201: HandoverOut})
    def post(self, request, manifest_id: int):
        data = HandoverIn(data=request.data)
        data.is_valid(raise_exception=True)
        handover = stats_services.record_handover(
            actor=request.user,
            manifest_id=manifest_id,
            holder=data.validated_data["holder"],
            weight_g=_grams(data.validated_data["weight_kg"]),
            handed_over_at=data.validated_data["handed_over_at"],
        )
        return Response(HandoverOut(handover).data, status=status.HTTP_201_CREATED)


class ManifestCloseView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(request=ManifestCloseIn, responses=ManifestOut)
    def post(self, request, manifest_id: int):
        data = ManifestCloseIn(data=request.data)
        data.is_valid(raise_exception=True)
        manifest = stats_services.close_manifest(
            actor=request.user,
            manifest_id=manifest_id,
            received_g=_grams(data.validated_data["received_kg"]),
            received_on=data.validated_data["date"],
        )
        return Response(ManifestOut(manifest).data)
