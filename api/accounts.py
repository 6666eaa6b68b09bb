"""Accounts, geography and staff administration over HTTP."""

import django_filters
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import services
from accounts.models import STAFF_ROLES, HouseholdJoinRequest
from accounts.selectors import household_requests_visible_to
from backend.codes.qr import qr_png
from geo.models import City, Community, District
from rewards.selectors import balance_of

from .fields import IdField
from .permissions import CanCreateStaff, IsCommunityStaff, IsDistrictOfficer, IsResident

# ---- serializers -------------------------------------------------------------------------------


class RegisterIn(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    display_name = serializers.CharField(max_length=40)


class UserPublicOut(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    phone = serializers.SerializerMethodField()

    def get_phone(self, user) -> str:
        return user.masked_phone


class TokenIn(TokenObtainPairSerializer):
    default_error_messages = {"no_active_account": gettext_lazy("Wrong phone number or password.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Bounded like registration's, so a megabyte "password" never reaches the hasher.
        self.fields[self.username_field] = serializers.CharField(max_length=32)
        self.fields["password"] = serializers.CharField(
            max_length=128, write_only=True, style={"input_type": "password"}
        )

    @classmethod
    def get_token(cls, user):
        return services.start_token_family(user)

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except AuthenticationFailed as exc:
            raise AuthenticationFailed(
                _("Wrong phone number or password."), code="invalid_credentials"
            ) from exc


class TokenPairOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshIn(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class LogoutIn(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class HouseholdOut(serializers.Serializer):
    id = serializers.IntegerField()
    address = serializers.CharField()
    community_id = serializers.IntegerField()


class MeOut(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    phone = serializers.CharField()
    role = serializers.CharField()
    household = HouseholdOut(allow_null=True)
    community = serializers.DictField(allow_null=True)
    district = serializers.DictField(allow_null=True)
    balance = serializers.IntegerField()
    leaderboard = serializers.BooleanField()


class MeIn(serializers.Serializer):
    display_name = serializers.CharField(max_length=40, required=False)
    leaderboard = serializers.BooleanField(required=False)


class HouseholdIn(serializers.Serializer):
    community_id = IdField()
    address = serializers.CharField(max_length=200, min_length=1)
    # A member's invitation; without one, a household with members answers 202 and staff decide.
    invitation_code = serializers.CharField(max_length=64, required=False, allow_blank=True)


class HouseholdRequestOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=HouseholdJoinRequest.Status.choices)
    household = HouseholdOut()
    resident_display_name = serializers.CharField(source="resident.shown_name")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class HouseholdInvitationOut(serializers.Serializer):
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()


class HouseholdRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=HouseholdJoinRequest.Status.choices)

    class Meta:
        model = HouseholdJoinRequest
        fields = ["status"]


class ResidentCodeOut(serializers.Serializer):
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()


class DistrictOut(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "name", "name_en", "admin_code", "kind", "slug"]


class CommunityOut(serializers.ModelSerializer):
    class Meta:
        model = Community
        fields = ["id", "name", "district_id"]


class CommunityIn(serializers.Serializer):
    district_id = IdField()
    name = serializers.CharField(max_length=128)


class StaffIn(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(max_length=128, write_only=True)
    display_name = serializers.CharField(max_length=40)
    role = serializers.ChoiceField(choices=STAFF_ROLES)
    district_id = IdField(required=False, allow_null=True)
    # A city officer's city; default the creator's. Only an administrator names another one.
    city_id = IdField(required=False, allow_null=True)
    community_ids = serializers.ListField(child=IdField(), required=False, max_length=500)


class StaffOut(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    phone = serializers.SerializerMethodField()
    role = serializers.CharField()
    district_id = serializers.IntegerField(allow_null=True)
    community_ids = serializers.SerializerMethodField()

    def get_phone(self, user) -> str:
        return user.masked_phone

    def get_community_ids(self, user) -> list[int]:
        return sorted(user.communities.values_list("id", flat=True))


class WsTicketOut(serializers.Serializer):
    ticket = serializers.CharField()
    expires_at = serializers.DateTimeField()


# ---- views -------------------------------------------------------------------------------------


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterIn, responses={201: UserPublicOut}, auth=[])
    def post(self, request):
        data = RegisterIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.register_resident(**data.validated_data)
        return Response(UserPublicOut(user).data, status=status.HTTP_201_CREATED)


class TokenObtainView(TokenObtainPairView):
    serializer_class = TokenIn
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(responses={200: TokenPairOut}, auth=[])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class BearerRealmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get_authenticate_header(self, request):
        # With no authenticators DRF turns a 401 into a 403; a bad refresh token is a 401.
        return 'Bearer realm="api"'


class TokenRefreshRotateView(BearerRealmView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=RefreshIn, responses={200: TokenPairOut}, auth=[])
    def post(self, request):
        data = RefreshIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.rotate_refresh_token(data.validated_data["refresh"]))


class LogoutView(BearerRealmView):
    @extend_schema(request=LogoutIn, responses={204: None}, auth=[])
    def post(self, request):
        data = LogoutIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.revoke_refresh_token(data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _place(obj):
    return {"id": obj.id, "name": obj.name} if obj else None


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeOut)
    def get(self, request):
        return Response(self._me(request.user))

    @extend_schema(request=MeIn, responses=MeOut)
    def patch(self, request):
        data = MeIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.update_profile(user=request.user, **data.validated_data)
        return Response(self._me(user))

    @staticmethod
    def _me(user) -> dict:
        household = user.household
        community = household.community if household else None
        district = community.district if community else user.district
        return MeOut(
            {
                "id": user.id,
                "display_name": user.shown_name,
                "phone": str(user.phone),
                "role": user.role,
                "household": (
                    {
                        "id": household.id,
                        "address": household.address,
                        "community_id": household.community_id,
                    }
                    if household
                    else None
                ),
                "community": _place(community),
                "district": _place(district),
                "balance": balance_of(user),
                "leaderboard": user.leaderboard_opt_in,
            }
        ).data


class MeHouseholdView(APIView):
    permission_classes = [IsResident]

    @extend_schema(request=HouseholdIn, responses={200: HouseholdOut, 202: HouseholdRequestOut})
    def post(self, request):
        data = HouseholdIn(data=request.data)
        data.is_valid(raise_exception=True)
        community = get_object_or_404(Community, pk=data.validated_data["community_id"])
        joined = services.join_household(
            user=request.user,
            community=community,
            address=data.validated_data["address"],
            invitation_code=data.validated_data.get("invitation_code", ""),
        )
        if joined.request is not None:
            return Response(HouseholdRequestOut(joined.request).data, status=status.HTTP_202_ACCEPTED)
        return Response(HouseholdOut(joined.household).data)


class MeHouseholdInvitationView(APIView):
    permission_classes = [IsResident]

    @extend_schema(request=None, responses={201: HouseholdInvitationOut})
    def post(self, request):
        code, expires_at = services.issue_household_invitation(user=request.user)
        return Response(
            HouseholdInvitationOut({"code": code, "expires_at": expires_at}).data,
            status=status.HTTP_201_CREATED,
        )


class HouseholdRequestListView(generics.ListAPIView):
    """Requests to join a household, for the staff of its community, district or city."""

    permission_classes = [IsCommunityStaff]
    serializer_class = HouseholdRequestOut
    filterset_class = HouseholdRequestFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return HouseholdJoinRequest.objects.none()
        return household_requests_visible_to(self.request.user).select_related("resident", "household")


class HouseholdRequestDecisionView(APIView):
    permission_classes = [IsCommunityStaff]
    approve = True

    @extend_schema(request=None, responses=HouseholdRequestOut)
    def post(self, request, request_id: int):
        decided = services.decide_household_request(
            actor=request.user, request_id=request_id, approve=self.approve
        )
        return Response(HouseholdRequestOut(decided).data)


class HouseholdRequestApproveView(HouseholdRequestDecisionView):
    approve = True


class HouseholdRequestRefuseView(HouseholdRequestDecisionView):
    approve = False


class MeCodeView(APIView):
    permission_classes = [IsResident]

    @extend_schema(responses=ResidentCodeOut)
    def get(self, request):
        code, expires_at = services.issue_resident_code(request.user)
        response = Response(ResidentCodeOut({"code": code, "expires_at": expires_at}).data)
        response["Cache-Control"] = "no-store"
        return response


class MeCodePngView(APIView):
    permission_classes = [IsResident]

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request):
        code, _expires_at = services.issue_resident_code(request.user)
        response = HttpResponse(qr_png(code), content_type="image/png")
        response["Cache-Control"] = "no-store"
        return response


class DistrictListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = DistrictOut
    queryset = District.objects.order_by("id")


class DistrictCommunityListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = CommunityOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Community.objects.none()
        district = get_object_or_404(District, pk=self.kwargs["district_id"])
        return Community.objects.filter(district=district).order_by("id")


class CommunityCreateView(APIView):
    permission_classes = [IsDistrictOfficer]

    @extend_schema(request=CommunityIn, responses={201: CommunityOut})
    def post(self, request):
        data = CommunityIn(data=request.data)
        data.is_valid(raise_exception=True)
        district = get_object_or_404(District, pk=data.validated_data["district_id"])
        community = services.create_community(
            actor=request.user, district=district, name=data.validated_data["name"]
        )
        return Response(CommunityOut(community).data, status=status.HTTP_201_CREATED)


class StaffCreateView(APIView):
    permission_classes = [CanCreateStaff]

    @extend_schema(request=StaffIn, responses={201: StaffOut})
    def post(self, request):
        data = StaffIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        district = None
        if values.get("district_id"):
            district = get_object_or_404(District, pk=values["district_id"])
        city = get_object_or_404(City, pk=values["city_id"]) if values.get("city_id") else None
        user = services.create_staff(
            actor=request.user,
            phone=values["phone"],
            password=values["password"],
            display_name=values["display_name"],
            role=values["role"],
            district=district,
            city=city,
            community_ids=values.get("community_ids", ()),
        )
        return Response(StaffOut(user).data, status=status.HTTP_201_CREATED)


class WsTicketView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: WsTicketOut})
    def post(self, request):
        ticket, expires_at = services.issue_ws_ticket(user=request.user)
        return Response(WsTicketOut({"ticket": ticket, "expires_at": expires_at}).data, status=201)
