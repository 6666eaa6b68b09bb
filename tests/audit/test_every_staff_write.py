"""Every write route staff can reach, read from the URL conf, leaves exactly one audit row naming the
caller. A new write route fails here until it has a scenario below that succeeds and is recorded."""

import uuid
from datetime import date

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from api import urls as api_urls
from backend.audit.models import AuditEntry
from stats.models import IndicatorTarget
from tests import factories
from tests.conftest import authenticated_client
from tests.rewards.factories import RewardFactory, ShopFactory
from tests.stats import factories as stats_factories

WRITE_METHODS = ("post", "put", "patch", "delete")
PERSONAS = ("district_officer", "city_officer", "inspector", "merchant")


def _personas(weidu):
    return {
        "district_officer": factories.DistrictOfficerFactory(district=weidu),
        "city_officer": factories.CityOfficerFactory(city=weidu.city),
        "inspector": factories.InspectorFactory(district=weidu),
        "merchant": factories.MerchantFactory(city=weidu.city),
    }


def _reachable(view_class, method: str, user) -> bool:
    request = getattr(APIRequestFactory(), method)("/")
    force_authenticate(request, user=user)
    view = view_class()
    view.request = view.initialize_request(request)
    view.args, view.kwargs, view.format_kwarg = (), {}, None
    view.request.method = method.upper()
    view.request._user = user
    return all(p.has_permission(view.request, view) for p in view.get_permissions())


def staff_write_routes(users) -> set[tuple[str, str]]:
    """(route name, method) for every write a staff member may attempt, by the views' own permissions."""
    routes = set()
    for pattern in api_urls.urlpatterns:
        view_class = getattr(pattern.callback, "view_class", None)
        name = f"api:{pattern.name}"
        if view_class is None or name in settings.AUDIT_EXEMPT_ROUTES:
            continue
        for method in WRITE_METHODS:
            if hasattr(view_class, method) and any(_reachable(view_class, method, u) for u in users.values()):
                routes.add((pattern.name, method))
    return routes


# Each scenario: (persona, method, url, body[, encoding]) built from a context of fixtures; the
# encoding is "json" unless a fifth item names another (a CSV upload is "multipart").
def _bin(ctx):
    return stats_factories.bin_in(ctx["community"], "recyclable")


def _kiosk(ctx):
    return stats_factories.kiosk(ctx["community"])


def _collection(ctx):
    return stats_factories.record(
        ctx["users"]["district_officer"], ctx["weidu"], "kitchen", 10, "composting", date(2026, 1, 5)
    )


def _target_to_delete(ctx):
    IndicatorTarget.objects.create(
        city=ctx["weidu"].city, indicator="kitchen_resourcing", year=2032, target="0.4"
    )


def _factor(ctx):
    from rewards.models import EmissionFactor, Material

    return EmissionFactor.objects.create(
        city=ctx["weidu"].city,
        material=Material.objects.get(code="metal"),
        destination="landfill",
        kg_co2e_per_kg="0.100",
        source="survey",
        source_year=2024,
    )


def _handler(ctx):
    from stats.models import Plant

    return Plant.objects.create(
        district=ctx["weidu"], name="危废处置中心", destination="hazardous_treatment", licence="豫危废 411000"
    )


def _manifest_body(ctx, number):
    return {
        "district_id": ctx["weidu"].pk,
        "handler_id": _handler(ctx).pk,
        "number": number,
        "handed_over_kg": "2.5",
        "handed_over_at": timezone.now().isoformat(),
    }


def _open_manifest(ctx):
    from stats.models import HazardousManifest

    client = authenticated_client(ctx["users"]["district_officer"])
    response = client.post("/api/v1/manifests", _manifest_body(ctx, "HW-CLOSE"), format="json")
    assert response.status_code == 201, response.content
    return HazardousManifest.objects.get(pk=response.json()["id"])


def _pending_drop(ctx):
    inspector = ctx["users"]["inspector"]
    inspector.communities.add(ctx["community"])
    resident = factories.ResidentFactory(household__community=ctx["community"])
    return stats_factories.drop(_bin(ctx), resident, timezone.now())


def _graded_drop(ctx, grader):
    """A drop `grader` has already judged correct, today: what a re-inspection sample draws from."""
    from sorting.models import Drop

    resident = factories.ResidentFactory(household__community=ctx["community"])
    row = stats_factories.drop(_bin(ctx), resident, timezone.now(), status="accepted", verdict="correct")
    Drop.objects.filter(pk=row.pk).update(graded_by=grader)
    return row


def _sample_request(ctx):
    inspector = ctx["users"]["inspector"]
    inspector.communities.add(ctx["community"])
    _graded_drop(ctx, inspector)
    today = timezone.localdate().isoformat()
    return {"district_id": ctx["weidu"].pk, "size": 1, "from": today, "to": today}


def _reinspection(ctx):
    """An item waiting for the persona's blind second verdict; another inspector gave the first."""
    from sorting.models import Reinspection, ReinspectionSample

    first = factories.InspectorFactory(district=ctx["weidu"], communities=[ctx["community"]])
    ctx["users"]["inspector"].communities.add(ctx["community"])
    drop = _graded_drop(ctx, first)
    today = timezone.localdate()
    sample = ReinspectionSample.objects.create(
        district=ctx["weidu"],
        requested_by=ctx["users"]["district_officer"],
        period_from=today,
        period_to=today,
        requested_size=1,
    )
    return Reinspection.objects.create(
        sample=sample, drop=drop, first_inspector=first, first_verdict="correct"
    )


def _on_the_spot(ctx):
    from accounts.services import issue_resident_code
    from sorting.services import bin_code

    ctx["users"]["inspector"].communities.add(ctx["community"])
    resident = factories.ResidentFactory(household__community=ctx["community"])
    return {
        "bin_code": bin_code(_bin(ctx)),
        "resident_code": issue_resident_code(resident)[0],
        "verdict": "correct",
    }


def _weighbridge_csv(ctx):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = (
        "district,category,weight_kg,date,destination,reference\n"
        f"{ctx['weidu'].pk},kitchen,12.5,2026-01-05,composting,WB-AUDIT-1\n"
    )
    return {"file": SimpleUploadedFile("export.csv", text.encode(), content_type="text/csv")}


def _voucher(ctx):
    from rewards import services
    from rewards.ledger import credit

    shop = ShopFactory(city=ctx["weidu"].city, merchants=[ctx["users"]["merchant"]])
    reward = RewardFactory(shop=shop, points_cost=10)
    resident = factories.ResidentFactory(household__community=ctx["community"])
    credit(resident=resident, amount=10, cause=f"test:{resident.pk}", kind="deposit")
    return services.redeem_reward(resident=resident, reward_id=reward.pk, quantity=1).body["voucher_code"]


def _join_request(ctx):
    from accounts.models import HouseholdJoinRequest

    member = factories.ResidentFactory(household__community=ctx["community"])
    newcomer = factories.ResidentFactory(household=None)
    return HouseholdJoinRequest.objects.create(resident=newcomer, household=member.household)


COLLECTION = {"category": "kitchen", "weight_kg": "12.5", "date": "2026-01-05", "destination": "composting"}

SCENARIOS = {
    ("me", "patch"): lambda c: ("district_officer", "patch", "/api/v1/me", {"display_name": "新名字"}),
    ("communities", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/communities",
        {"district_id": c["weidu"].pk, "name": f"新社区{uuid.uuid4().hex[:6]}"},
    ),
    ("staff", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/staff",
        {
            "phone": factories.next_phone(),
            "password": "a-long-enough-passphrase-9",
            "display_name": "督导",
            "role": "inspector",
        },
    ),
    ("rewards", "post"): lambda c: (
        "city_officer",
        "post",
        "/api/v1/rewards",
        {"name": "环保袋", "points_cost": 50, "stock": 5, "shop_id": ShopFactory(city=c["weidu"].city).pk},
    ),
    ("redemption-fulfil", "post"): lambda c: (
        "merchant",
        "post",
        "/api/v1/redemptions/fulfil",
        {"voucher_code": _voucher(c)},
    ),
    ("materials", "post"): lambda c: (
        "city_officer",
        "post",
        "/api/v1/materials",
        {"code": "cardboard-x", "name": "纸板", "category": "recyclable", "points_per_kg": 5},
    ),
    ("material", "patch"): lambda c: (
        "city_officer",
        "patch",
        "/api/v1/materials/paper",
        {"points_per_kg": 77},
    ),
    ("point-rules", "patch"): lambda c: (
        "city_officer",
        "patch",
        "/api/v1/point-rules",
        {"points_per_accepted_drop": 12},
    ),
    ("bins", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/bins",
        {"community_id": c["community"].pk, "category": "kitchen", "name": "厨余桶"},
    ),
    ("bin-reprint", "post"): lambda c: ("district_officer", "post", f"/api/v1/bins/{_bin(c).pk}/reprint", {}),
    ("bin-status", "post"): lambda c: (
        "district_officer",
        "post",
        f"/api/v1/bins/{_bin(c).pk}/status",
        {"status": "inactive"},
    ),
    ("kiosks", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/kiosks",
        {"community_id": c["community"].pk, "name": "回收机", "materials": ["paper"]},
    ),
    ("kiosk", "patch"): lambda c: (
        "district_officer",
        "patch",
        f"/api/v1/kiosks/{_kiosk(c).pk}",
        {"enabled": False},
    ),
    ("kiosk-rotate", "post"): lambda c: (
        "district_officer",
        "post",
        f"/api/v1/kiosks/{_kiosk(c).pk}/rotate-secret",
        {},
    ),
    ("collections", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/collections",
        {**COLLECTION, "district_id": c["weidu"].pk},
    ),
    ("collection-correct", "post"): lambda c: (
        "district_officer",
        "post",
        f"/api/v1/collections/{_collection(c).pk}/correct",
        {},
    ),
    ("stats-district-settings", "put"): lambda c: (
        "district_officer",
        "put",
        f"/api/v1/stats/districts/{c['weidu'].pk}/settings",
        {"incineration_counts_as_recovery": True},
    ),
    ("plants", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/plants",
        {"district_id": c["weidu"].pk, "name": "堆肥厂", "destination": "composting"},
    ),
    ("stats-indicator-target", "put"): lambda c: (
        "city_officer",
        "put",
        "/api/v1/stats/indicators/kitchen_resourcing/targets/2031",
        {"target": "0.5"},
    ),
    ("stats-indicator-target", "delete"): lambda c: (
        "city_officer",
        "delete",
        "/api/v1/stats/indicators/kitchen_resourcing/targets/2032",
        _target_to_delete(c),
    ),
    ("emission-factors", "post"): lambda c: (
        "city_officer",
        "post",
        "/api/v1/emission-factors",
        {
            "material": "glass",
            "destination": "landfill",
            "kg_co2e_per_kg": "0.100",
            "source": "survey",
            "source_year": 2024,
        },
    ),
    ("emission-factor", "patch"): lambda c: (
        "city_officer",
        "patch",
        f"/api/v1/emission-factors/{_factor(c).pk}",
        {"kg_co2e_per_kg": "0.2"},
    ),
    ("carbon-points", "patch"): lambda c: (
        "city_officer",
        "patch",
        "/api/v1/carbon-points",
        {"enabled": True},
    ),
    ("drop-verdict", "post"): lambda c: (
        "inspector",
        "post",
        f"/api/v1/drops/{_pending_drop(c).pk}/verdict",
        {"verdict": "correct"},
    ),
    ("pickups", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/pickups",
        {
            "pickup_id": str(uuid.uuid4()),
            "collected_at": timezone.now().isoformat(),
            "lines": [{"material": "paper", "weight_g": 100}],
            "kiosk_id": _kiosk(c).pk,
        },
    ),
    ("manifests", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/manifests",
        _manifest_body(c, "HW-1"),
    ),
    ("manifest-close", "post"): lambda c: (
        "district_officer",
        "post",
        f"/api/v1/manifests/{_open_manifest(c).pk}/close",
        {"received_kg": "2.4", "date": timezone.localdate().isoformat()},
    ),
    ("point-rule-versions", "post"): lambda c: (
        "city_officer",
        "post",
        "/api/v1/point-rules/versions",
        {"points_per_accepted_drop": 13},
    ),
    ("household-request-approve", "post"): lambda c: (
        "district_officer",
        "post",
        f"/api/v1/household-requests/{_join_request(c).pk}/approve",
        {},
    ),
    ("household-request-refuse", "post"): lambda c: (
        "district_officer",
        "post",
        f"/api/v1/household-requests/{_join_request(c).pk}/refuse",
        {},
    ),
    ("manifest-handovers", "post"): lambda c: (
        "district_officer",
        "post",
        f"/api/v1/manifests/{_open_manifest(c).pk}/handovers",
        {"holder": "中转站", "weight_kg": "2.5", "handed_over_at": timezone.now().isoformat()},
    ),
    ("shops", "post"): lambda c: ("city_officer", "post", "/api/v1/shops", {"name": "回收超市"}),
    ("shop", "patch"): lambda c: (
        "city_officer",
        "patch",
        f"/api/v1/shops/{ShopFactory(city=c['weidu'].city).pk}",
        {"name": "改名"},
    ),
    ("shop-merchants", "post"): lambda c: (
        "city_officer",
        "post",
        f"/api/v1/shops/{ShopFactory(city=c['weidu'].city, merchants=[]).pk}/merchants",
        {"merchant_id": c["users"]["merchant"].pk},
    ),
    ("shop-merchant", "delete"): lambda c: (
        "city_officer",
        "delete",
        f"/api/v1/shops/{ShopFactory(city=c['weidu'].city, merchants=[c['users']['merchant']]).pk}"
        f"/merchants/{c['users']['merchant'].pk}",
        None,
    ),
    ("collections-import", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/collections/import",
        _weighbridge_csv(c),
        "multipart",
    ),
    ("stats-reinspections", "post"): lambda c: (
        "district_officer",
        "post",
        "/api/v1/stats/reinspections",
        _sample_request(c),
    ),
    ("reinspection-verdict", "post"): lambda c: (
        "inspector",
        "post",
        f"/api/v1/reinspections/{_reinspection(c).pk}/verdict",
        {"verdict": "incorrect"},
    ),
    ("drop-inspect", "post"): lambda c: ("inspector", "post", "/api/v1/drops/inspect", _on_the_spot(c)),
}


@pytest.fixture
def ctx(weidu, community):
    return {"weidu": weidu, "community": community, "users": _personas(weidu)}


@pytest.mark.django_db
def test_every_staff_write_route_has_a_scenario(ctx):
    routes = staff_write_routes(ctx["users"])
    missing = routes - set(SCENARIOS)
    assert not missing, f"write routes staff can reach with no audit scenario: {sorted(missing)}"
    assert set(SCENARIOS) <= routes, f"scenarios for no reachable route: {sorted(set(SCENARIOS) - routes)}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(SCENARIOS), ids=lambda r: f"{r[1]} {r[0]}")
def test_a_staff_write_leaves_exactly_one_row_naming_its_actor(ctx, as_user, route):
    persona, method, url, body, *encoding = SCENARIOS[route](ctx)
    actor = ctx["users"][persona]
    before = set(AuditEntry.objects.values_list("id", flat=True))
    response = getattr(as_user(actor), method)(url, body, format=encoding[0] if encoding else "json")
    assert response.status_code < 300, (route, response.status_code, response.content[:300])
    new = AuditEntry.objects.exclude(id__in=before)
    assert new.count() == 1, list(new.values("object_type", "route"))
    entry = new.get()
    assert (entry.actor_kind, entry.actor_id, entry.actor_role) == ("user", actor.pk, persona)
    assert entry.route == f"api:{route[0]}"


@pytest.mark.django_db
def test_only_residents_make_drops_and_their_drops_leave_no_row(ctx, as_user):
    # `drops` takes writes from residents alone, so it is no staff write route: staff are refused
    # before anything is written, and a resident's drop is their own business, not governance.
    from sorting.models import Drop
    from sorting.services import bin_code

    code = bin_code(_bin(ctx))
    routes = staff_write_routes(ctx["users"])
    assert ("drops", "post") not in routes
    for persona in PERSONAS:
        refused = as_user(ctx["users"][persona]).post("/api/v1/drops", {"bin_code": code}, format="json")
        assert refused.status_code == 403, (persona, refused.content[:200])
    resident = factories.ResidentFactory(household__community=ctx["community"])
    made = as_user(resident).post("/api/v1/drops", {"bin_code": code}, format="json")
    assert made.status_code == 201, made.content[:300]
    assert Drop.objects.filter(resident=resident).count() == 1
    assert not AuditEntry.objects.exists()
