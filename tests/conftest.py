import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from backend.geo.models import District

from . import factories


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache (Redis in CI): each test starts with none.
    cache.clear()
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
    from backend.accounts.models import User

    return User.objects.create_superuser(factories.next_phone(), factories.PASSWORD)
