"""Kiosks over HTTP: staff provisioning, signed device requests, session claims by residents."""

import re

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.errors import DomainError, InvalidInput, ValidationFailed
from geo.models import Community
from kiosks import selectors, services
from kiosks.models import Kiosk

from .errors import envelope
from .fields import IdField
from .kiosk_auth import IsKiosk, KioskSignatureAuthentication
from .parsers import ItemwiseJSONParser, holds_unstorable_text
from .permissions import IsResident, IsStaffMember

SIGNED_HEADERS = [
    OpenApiParameter("X-Timestamp", str, OpenApiParameter.HEADER, required=True, description="Unix seconds"),
    OpenApiParameter(
        "X-Nonce", str, OpenApiParameter.HEADER, required=True, description="16-64 characters, unique"
    ),
]

# The shape of a material code (SlugField), and the most its column holds.
MATERIAL_CODE = re.compile(r"[-a-zA-Z0-9_]{1,32}")

# ---- serializers -------------------------------------------------------------------------------


class KioskIn(serializers.Serializer):
    community_id = IdField()
    name = serializers.CharField(max_length=100)
    materials = serializers.ListField(child=serializers.SlugField(max_length=32), min_length=1, max_length=50)


class KioskSecretOut(serializers.Serializer):
    id = serializers.IntegerField()
    secret = serializers.CharField()
    secret_version = serializers.IntegerField()


class KioskPatchIn(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    materials = serializers.ListField(
        child=serializers.SlugField(max_length=32), min_length=1, max_length=50, required=False
    )


class KioskAlertOut(serializers.Serializer):
    kind = serializers.CharField()
    material = serializers.CharField()
    detail = serializers.CharField()
    raised_at = serializers.DateTimeField()


class KioskOut(serializers.ModelSerializer):
    materials = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    alerts = KioskAlertOut(many=True, source="open_alerts", read_only=True)
    district_id = serializers.IntegerField(source="community.district_id", read_only=True)

    class Meta:
        model = Kiosk
        fields = [
            "id",
            "name",
            "community_id",
            "district_id",
            "enabled",
            "reported_status",
            "last_heartbeat_at",
            "fill_levels",
            "firmware",
            "materials",
            "alerts",
        ]


class SessionOpenOut(serializers.Serializer):
    session_id = serializers.UUIDField()
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()


class SessionStatusOut(serializers.Serializer):
    session_id = serializers.UUIDField(source="pk")
    status = serializers.CharField()
    resident_display_name = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()

    def get_resident_display_name(self, session) -> str | None:
        return session.resident.shown_name if session.resident_id else None


class SessionClaimIn(serializers.Serializer):
    code = serializers.CharField(max_length=400)


class SessionClaimOut(serializers.Serializer):
    session_id = serializers.UUIDField(source="pk")
    kiosk = serializers.SerializerMethodField()

    def get_kiosk(self, session) -> dict:
        return {"id": session.kiosk_id, "name": session.kiosk.name}


class DepositIn(serializers.Serializer):
    deposit_id = serializers.UUIDField()
    session_id = serializers.UUIDField(required=False, allow_null=True)
    resident_code = serializers.CharField(required=False, allow_null=True, max_length=400)
    material = serializers.CharField(max_length=32)
    weight_g = serializers.IntegerField(min_value=1, max_value=10_000_000)
    count = serializers.IntegerField(min_value=0, max_value=100_000, required=False, allow_null=True)
    occurred_at = serializers.DateTimeField()

    def validate(self, attrs):
        if bool(attrs.get("session_id")) == bool(attrs.get("resident_code")):
            raise serializers.ValidationError(_("Give exactly one of session_id and resident_code."))
        return attrs


class DepositOut(serializers.Serializer):
    deposit_id = serializers.UUIDField()
    points_awarded = serializers.IntegerField()
    balance = serializers.IntegerField()


class DepositBatchIn(serializers.Serializer):
    # Documents the limit; the service answers a longer batch with batch_too_large.
    deposits = serializers.ListField(
        child=serializers.JSONField(), allow_empty=False, max_length=services.BATCH_LIMIT
    )


class DepositBatchItemOut(serializers.Serializer):
    deposit_id = serializers.CharField(allow_null=True)
    status = serializers.IntegerField(required=False)
    points_awarded = serializers.IntegerField(required=False)
    balance = serializers.IntegerField(required=False)
    error = serializers.DictField(required=False)


class DepositBatchOut(serializers.Serializer):
    results = DepositBatchItemOut(many=True)


class FillLevelsField(serializers.DictField):
    """`{material code: percent}`: a key is a material code, as alerts store it, never free text."""

    MAX_COMPARTMENTS = 50

    def __init__(self, **kwargs):
        super().__init__(child=serializers.IntegerField(min_value=0, max_value=100), **kwargs)

    def to_internal_value(self, data):
        levels = super().to_internal_value(data)
        if len(levels) > self.MAX_COMPARTMENTS:
            raise serializers.ValidationError(
                _("At most %(count)d compartments.") % {"count": self.MAX_COMPARTMENTS}
            )
        if not all(MATERIAL_CODE.fullmatch(key) for key in levels):
            raise serializers.ValidationError(
                _("Compartments are named by material code: letters, digits, - and _, at most 32.")
            )
        return levels


class HeartbeatIn(serializers.Serializer):
    status = serializers.CharField(max_length=32)
    fill_levels = FillLevelsField(required=False)
    firmware = serializers.CharField(max_length=64, required=False, allow_blank=True)


def parse_batch_item(item) -> dict | DomainError:
    """A batch item's payload, or the error that answers it: one bad item must not fail the batch."""
    if holds_unstorable_text(item):
        return InvalidInput(_("The item holds text that cannot be stored (a NUL or invalid Unicode)."))
    data = DepositIn(data=item)
    return data.validated_data if data.is_valid() else ValidationFailed(fields=data.errors)


def _echoed_deposit_id(item) -> str | None:
    deposit_id = item.get("deposit_id") if isinstance(item, dict) else None
    if not isinstance(deposit_id, str) or holds_unstorable_text(deposit_id):
        return None
    return deposit_id[:64]


def deposit_status(outcome: services.DepositOutcome) -> int:
    return status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK


def batch_result(item, result: services.DepositOutcome | DomainError) -> dict:
    if isinstance(result, DomainError):
        return {
            "deposit_id": _echoed_deposit_id(item),
            "error": envelope(result.code, result.message, fields=result.fields)["error"],
        }
    return {**DepositOut(result.body).data, "status": deposit_status(result)}


# ---- staff views -------------------------------------------------------------------------------


class KioskListCreateView(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = KioskOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Kiosk.objects.none()
        return selectors.kiosks_visible_to(self.request.user)

    @extend_schema(request=KioskIn, responses={201: KioskSecretOut})
    def post(self, request):
        data = KioskIn(data=request.data)
        data.is_valid(raise_exception=True)
        community = get_object_or_404(
            Community.objects.select_related("district"), pk=data.validated_data["community_id"]
        )
        kiosk, secret = services.provision_kiosk(
            actor=request.user,
            community=community,
            name=data.validated_data["name"],
            material_codes=data.validated_data["materials"],
        )
        body = {"id": kiosk.pk, "secret": secret, "secret_version": kiosk.secret_version}
        return Response(KioskSecretOut(body).data, status=status.HTTP_201_CREATED)


def _staff_kiosk(request, kiosk_id) -> Kiosk:
    return get_object_or_404(selectors.kiosks_visible_to(request.user), pk=kiosk_id)


class KioskDetailView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=KioskOut)
    def get(self, request, kiosk_id: int):
        return Response(KioskOut(_staff_kiosk(request, kiosk_id)).data)

    @extend_schema(request=KioskPatchIn, responses=KioskOut)
    def patch(self, request, kiosk_id: int):
        kiosk = _staff_kiosk(request, kiosk_id)
        data = KioskPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.update_kiosk(
            actor=request.user,
            kiosk=kiosk,
            enabled=data.validated_data.get("enabled"),
            material_codes=data.validated_data.get("materials"),
        )
        return Response(KioskOut(_staff_kiosk(request, kiosk_id)).data)


class KioskRotateSecretView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(request=None, responses=KioskSecretOut)
    def post(self, request, kiosk_id: int):
        kiosk = _staff_kiosk(request, kiosk_id)
        secret = services.rotate_secret(actor=request.user, kiosk=kiosk)
        kiosk.refresh_from_db()
        return Response(
            KioskSecretOut({"id": kiosk.pk, "secret": secret, "secret_version": kiosk.secret_version}).data
        )


# ---- resident view -----------------------------------------------------------------------------


class SessionClaimView(APIView):
    permission_classes = [IsResident]

    @extend_schema(request=SessionClaimIn, responses=SessionClaimOut)
    def post(self, request):
        data = SessionClaimIn(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.claim_session(resident=request.user, code=data.validated_data["code"])
        return Response(SessionClaimOut(session).data)


# ---- kiosk views (signed requests) --------------------------------------------------------------


class SignedKioskView(APIView):
    """A view only a kiosk reaches, with a signed request; `request.auth` is the kiosk."""

    authentication_classes = [KioskSignatureAuthentication]
    permission_classes = [IsKiosk]


class KioskSessionOpenView(SignedKioskView):
    @extend_schema(request=None, responses={201: SessionOpenOut}, parameters=SIGNED_HEADERS)
    def post(self, request):
        session, code = services.open_session(kiosk=request.auth)
        body = {"session_id": session.pk, "code": code, "expires_at": session.expires_at}
        return Response(SessionOpenOut(body).data, status=status.HTTP_201_CREATED)


class KioskSessionDetailView(SignedKioskView):
    @extend_schema(responses=SessionStatusOut, parameters=SIGNED_HEADERS)
    def get(self, request, session_id):
        return Response(
            SessionStatusOut(services.kiosk_session(kiosk=request.auth, session_id=session_id)).data
        )


class KioskSessionCloseView(SignedKioskView):
    @extend_schema(request=None, responses=SessionStatusOut, parameters=SIGNED_HEADERS)
    def post(self, request, session_id):
        return Response(
            SessionStatusOut(services.close_session(kiosk=request.auth, session_id=session_id)).data
        )


class KioskDepositCreateView(SignedKioskView):
    def dispatch(self, request, *args, **kwargs):
        # The nonce is spent in the deposit's own transaction: one commit per deposit. A refused
        # deposit rolls its nonce back too, which is harmless: replaying it is refused again, and a
        # replay that now succeeds records the deposit its kiosk signed, once per deposit_id.
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)

    @extend_schema(request=DepositIn, responses={201: DepositOut, 200: DepositOut}, parameters=SIGNED_HEADERS)
    def post(self, request):
        data = DepositIn(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.record_deposit(kiosk=request.auth, payload=data.validated_data)
        # The body is already DepositOut's shape, written (and stored for retries) by the service.
        return Response(outcome.body, status=deposit_status(outcome))


class KioskDepositBatchView(SignedKioskView):
    parser_classes = [ItemwiseJSONParser]

    @extend_schema(request=DepositBatchIn, responses=DepositBatchOut, parameters=SIGNED_HEADERS)
    def post(self, request):
        items = request.data.get("deposits") if isinstance(request.data, dict) else None
        if not isinstance(items, list) or not items:
            raise InvalidInput(fields={"deposits": [_("A non-empty list of deposits is required.")]})
        results = services.record_batch(kiosk=request.auth, items=[parse_batch_item(item) for item in items])
        answers = [batch_result(item, result) for item, result in zip(items, results, strict=True)]
        return Response({"results": answers})


class KioskHeartbeatView(SignedKioskView):
    @extend_schema(request=HeartbeatIn, responses={204: None}, parameters=SIGNED_HEADERS)
    def post(self, request):
        data = HeartbeatIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.heartbeat(
            kiosk=request.auth,
            status=data.validated_data["status"],
            fill_levels=data.validated_data.get("fill_levels", {}),
            firmware=data.validated_data.get("firmware", ""),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
