"""Every /api/v1/ route. Each area module adds its own block below."""

from django.urls import path

from . import accounts

app_name = "api"

urlpatterns = [
    path("auth/register", accounts.RegisterView.as_view(), name="register"),
    path("auth/token", accounts.TokenObtainView.as_view(), name="token"),
    path("auth/token/refresh", accounts.TokenRefreshRotateView.as_view(), name="token-refresh"),
    path("auth/logout", accounts.LogoutView.as_view(), name="logout"),
    path("me", accounts.MeView.as_view(), name="me"),
    path("me/household", accounts.MeHouseholdView.as_view(), name="me-household"),
    path("me/code", accounts.MeCodeView.as_view(), name="me-code"),
    path("me/code.png", accounts.MeCodePngView.as_view(), name="me-code-png"),
    path("districts", accounts.DistrictListView.as_view(), name="districts"),
    path(
        "districts/<int:district_id>/communities",
        accounts.DistrictCommunityListView.as_view(),
        name="district-communities",
    ),
    path("communities", accounts.CommunityCreateView.as_view(), name="communities"),
    path("staff", accounts.StaffCreateView.as_view(), name="staff"),
    path("ws-ticket", accounts.WsTicketView.as_view(), name="ws-ticket"),
]

# Each area appends its own routes below its marker (keep the markers).
# -- rewards --
# -- sorting --
# -- kiosks --
# -- stats --
