import pytest

from tests import factories


@pytest.fixture
def jian_an_officer(jian_an):
    return factories.DistrictOfficerFactory(district=jian_an)


@pytest.fixture
def xuchang_db(django_db_blocker):
    """Reference geography for `transaction=True` tests, whose flush between tests empties every table."""
    from geo.models import City, District
    from geo.reference import load_xuchang

    city = load_xuchang(City, District)
    return District.objects.get(slug="weidu"), District.objects.get(slug="jian-an"), city
