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
    path(
        "me/household/invitations",
        accounts.MeHouseholdInvitationView.as_view(),
        name="me-household-invitations",
    ),
    path("household-requests", accounts.HouseholdRequestListView.as_view(), name="household-requests"),
    path(
        "household-requests/<int:request_id>/approve",
        accounts.HouseholdRequestApproveView.as_view(),
        name="household-request-approve",
    ),
    path(
        "household-requests/<int:request_id>/refuse",
        accounts.HouseholdRequestRefuseView.as_view(),
        name="household-request-refuse",
    ),
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
from . import rewards as rewards_api  # noqa: E402

urlpatterns += [
    path("me/points", rewards_api.MePointsView.as_view(), name="me-points"),
    path("me/ledger", rewards_api.MeLedgerView.as_view(), name="me-ledger"),
    path("rewards", rewards_api.RewardListCreateView.as_view(), name="rewards"),
    path("redemptions", rewards_api.RedemptionListCreateView.as_view(), name="redemptions"),
    path("redemptions/fulfil", rewards_api.RedemptionFulfilView.as_view(), name="redemption-fulfil"),
    path(
        "redemptions/<int:redemption_id>/cancel",
        rewards_api.RedemptionCancelView.as_view(),
        name="redemption-cancel",
    ),
    path("materials", rewards_api.MaterialListCreateView.as_view(), name="materials"),
    path("materials/<slug:code>", rewards_api.MaterialDetailView.as_view(), name="material"),
    path("point-rules", rewards_api.PointRulesView.as_view(), name="point-rules"),
    path("point-rules/versions", rewards_api.PointRulesVersionsView.as_view(), name="point-rule-versions"),
    path("leaderboards", rewards_api.LeaderboardView.as_view(), name="leaderboards"),
]
# -- sorting --
from . import sorting as sorting_api  # noqa: E402

urlpatterns += [
    path("bins", sorting_api.BinListCreateView.as_view(), name="bins"),
    path("bins/labels.pdf", sorting_api.BinLabelSheetView.as_view(), name="bin-label-sheet"),
    path("bins/<int:bin_id>/reprint", sorting_api.BinReprintView.as_view(), name="bin-reprint"),
    path("bins/<int:bin_id>/status", sorting_api.BinStatusView.as_view(), name="bin-status"),
    path("bins/<int:bin_id>/label.png", sorting_api.BinLabelPngView.as_view(), name="bin-label-png"),
    path("bins/<int:bin_id>/label.svg", sorting_api.BinLabelSvgView.as_view(), name="bin-label-svg"),
    path("drops", sorting_api.DropListCreateView.as_view(), name="drops"),
    path("drops/inspect", sorting_api.DropInspectView.as_view(), name="drop-inspect"),
    path("drops/<int:drop_id>/verdict", sorting_api.DropVerdictView.as_view(), name="drop-verdict"),
    path("drops/<int:drop_id>/photo", sorting_api.DropPhotoView.as_view(), name="drop-photo"),
]
# -- kiosks --
from . import kiosks as kiosks_api  # noqa: E402

urlpatterns += [
    path("kiosks", kiosks_api.KioskListCreateView.as_view(), name="kiosks"),
    path("kiosks/<int:kiosk_id>", kiosks_api.KioskDetailView.as_view(), name="kiosk"),
    path(
        "kiosks/<int:kiosk_id>/rotate-secret", kiosks_api.KioskRotateSecretView.as_view(), name="kiosk-rotate"
    ),
    path("kiosk-sessions/claim", kiosks_api.SessionClaimView.as_view(), name="kiosk-session-claim"),
    path("kiosk/sessions", kiosks_api.KioskSessionOpenView.as_view(), name="kiosk-sessions"),
    path(
        "kiosk/sessions/<uuid:session_id>", kiosks_api.KioskSessionDetailView.as_view(), name="kiosk-session"
    ),
    path(
        "kiosk/sessions/<uuid:session_id>/close",
        kiosks_api.KioskSessionCloseView.as_view(),
        name="kiosk-session-close",
    ),
    path("kiosk/deposits", kiosks_api.KioskDepositCreateView.as_view(), name="kiosk-deposits"),
    path("kiosk/deposits/batch", kiosks_api.KioskDepositBatchView.as_view(), name="kiosk-deposits-batch"),
    path("kiosk/heartbeat", kiosks_api.KioskHeartbeatView.as_view(), name="kiosk-heartbeat"),
]
# -- stats --
from . import pickups as pickups_api  # noqa: E402
from . import stats as stats_api  # noqa: E402

urlpatterns += [
    path("collections", stats_api.CollectionListCreateView.as_view(), name="collections"),
    path(
        "collections/<int:collection_id>/correct",
        stats_api.CollectionCorrectView.as_view(),
        name="collection-correct",
    ),
    path("collections/import", stats_api.CollectionImportView.as_view(), name="collections-import"),
    path("stats/districts", stats_api.DistrictStatsListView.as_view(), name="stats-districts"),
    path(
        "stats/districts/<int:district_id>/series",
        stats_api.DistrictSeriesView.as_view(),
        name="stats-district-series",
    ),
    path(
        "stats/districts/<int:district_id>/communities",
        stats_api.DistrictCommunitiesStatsView.as_view(),
        name="stats-district-communities",
    ),
    path(
        "stats/districts/<int:district_id>/settings",
        stats_api.DistrictSettingsView.as_view(),
        name="stats-district-settings",
    ),
    path("stats/export.csv", stats_api.StatsExportView.as_view(), name="stats-export"),
    path(
        "stats/districts/<int:district_id>/indicators/<str:code>/explain",
        stats_api.IndicatorExplainView.as_view(),
        name="stats-indicator-explain",
    ),
    path(
        "stats/districts/<int:district_id>/balance",
        stats_api.DistrictBalanceView.as_view(),
        name="stats-district-balance",
    ),
    path(
        "stats/districts/<int:district_id>/hazardous",
        stats_api.DistrictHazardousView.as_view(),
        name="stats-district-hazardous",
    ),
    path("stats/indicators", stats_api.IndicatorListView.as_view(), name="stats-indicators"),
    path("plants", pickups_api.PlantListCreateView.as_view(), name="plants"),
    path("pickups", pickups_api.PickupListCreateView.as_view(), name="pickups"),
    path("manifests", pickups_api.ManifestListCreateView.as_view(), name="manifests"),
    path("manifests/<int:manifest_id>/close", pickups_api.ManifestCloseView.as_view(), name="manifest-close"),
    path(
        "manifests/<int:manifest_id>/handovers",
        pickups_api.ManifestHandoverView.as_view(),
        name="manifest-handovers",
    ),
    path("kiosk/pickups", pickups_api.KioskPickupCreateView.as_view(), name="kiosk-pickups"),
    path(
        "stats/indicators/<str:code>/targets/<int:year>",
        stats_api.IndicatorTargetView.as_view(),
        name="stats-indicator-target",
    ),
]
# -- carbon --
from . import carbon as carbon_api  # noqa: E402

urlpatterns += [
    path("emission-factors", carbon_api.EmissionFactorListCreateView.as_view(), name="emission-factors"),
    path(
        "emission-factors/<int:factor_id>",
        carbon_api.EmissionFactorDetailView.as_view(),
        name="emission-factor",
    ),
    path("carbon-points", carbon_api.CarbonRuleView.as_view(), name="carbon-points"),
    path("me/impact", carbon_api.MeImpactView.as_view(), name="me-impact"),
]
# -- inspector quality --
from . import inspectors as inspectors_api  # noqa: E402

urlpatterns += [
    path("stats/inspectors", inspectors_api.InspectorQualityView.as_view(), name="stats-inspectors"),
    path("stats/reinspections", inspectors_api.SampleListCreateView.as_view(), name="stats-reinspections"),
    path(
        "stats/reinspections/<int:sample_id>",
        inspectors_api.SampleDetailView.as_view(),
        name="stats-reinspection",
    ),
    path("reinspections", inspectors_api.ReinspectionQueueView.as_view(), name="reinspections"),
    path(
        "reinspections/<int:reinspection_id>/verdict",
        inspectors_api.ReinspectionVerdictView.as_view(),
        name="reinspection-verdict",
    ),
]
# -- audit --
from . import audit as audit_api  # noqa: E402

urlpatterns += [
    path("audit", audit_api.AuditListView.as_view(), name="audit"),
]
# -- shops and settlement --
from . import shops as shops_api  # noqa: E402

urlpatterns += [
    path("shops", shops_api.ShopListCreateView.as_view(), name="shops"),
    path("shops/<int:shop_id>", shops_api.ShopDetailView.as_view(), name="shop"),
    path("shops/<int:shop_id>/merchants", shops_api.ShopMerchantAddView.as_view(), name="shop-merchants"),
    path(
        "shops/<int:shop_id>/merchants/<int:merchant_id>",
        shops_api.ShopMerchantRemoveView.as_view(),
        name="shop-merchant",
    ),
    path("shops/<int:shop_id>/settlement", shops_api.ShopSettlementView.as_view(), name="shop-settlement"),
    path(
        "shops/<int:shop_id>/settlement.csv",
        shops_api.ShopSettlementCsvView.as_view(),
        name="shop-settlement-csv",
    ),
    path("liability", shops_api.LiabilityView.as_view(), name="liability"),
]
