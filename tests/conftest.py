import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from geo.models import City, District
from geo.reference import load_xuchang
from rewards.fixtures_data import load_default_emission_factors, load_default_materials
from rewards.ledger import ensure_system_accounts
from rewards.models import Account, EmissionFactor, Material
from rewards.selectors import forget_cached_rules

from . import factories


@pytest.fixture(autouse=True)
def _reference_data(django_db_setup, django_db_blocker):
    """Reference rows come from data migrations, and a transactional test's flush deletes them;
    restore them (committed, outside the test's transaction) whenever they are missing."""
    with django_db_blocker.unblock():
        if (
            not District.objects.exists()
            or not Account.objects.filter(owner=None).exists()
            or not EmissionFactor.objects.exists()
        ):
            load_xuchang(City, District)
            load_default_materials(Material)
            ensure_system_accounts()
            for city in City.objects.all():
                load_default_emission_factors(EmissionFactor, Material, city)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache (Redis in CI): each test starts with none; so do the
    # per-process copies of point rules and materials.
    cache.clear()
    forget_cached_rules()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def authenticated_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def as_user():
    """`as_user(user)` -> an APIClient carrying that user's access token."""
    return authenticated_client


@pytest.fixture
def weidu(db):
    return District.objects.get(slug="weidu")


@pytest.fixture
def jian_an(db):
    return District.objects.get(slug="jian-an")


@pytest.fixture
def community(weidu):
    return factories.CommunityFactory(district=weidu)


@pytest.fixture
def resident(community):
    return factories.ResidentFactory(household__community=community)


@pytest.fixture
def district_officer(weidu):
    return factories.DistrictOfficerFactory(district=weidu)


@pytest.fixture
def city_officer(weidu):
    return factories.CityOfficerFactory(city=weidu.city)


@pytest.fixture
def admin_user(db):
    from accounts.models import User

    return User.objects.create_superuser(factories.next_phone(), factories.PASSWORD)


@pytest.fixture(autouse=True)
def _fresh_kiosk_cache():
    # Kiosk rows are cached per process; a row from one test must not answer for the next.
    from kiosks import kiosk_cache

    kiosk_cache.clear()
    yield
    kiosk_cache.clear()


@pytest.fixture
def rules_at_once(settings):
    """Rule and price changes through the API start at once: the test is the only process."""
    settings.POINT_RULES_PROPAGATION_SECONDS = 0


@pytest.fixture
def luoyang(db):
    """A second city beside Xuchang, with one district: for proving two cities never mix."""
    city = City.objects.create(name="洛阳市", admin_code="410300")
    return city, District.objects.create(city=city, name="西工区", slug="xigong")


@pytest.fixture
def layer(monkeypatch):
    """Every event published, kept instead of sent."""
    from backend.realtime import publish as publish_module
    from tests.layers import RecordingLayer

    recording = RecordingLayer()
    monkeypatch.setattr(publish_module, "get_channel_layer", lambda: recording)
    return recording
