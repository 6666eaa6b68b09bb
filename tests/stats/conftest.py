import pytest

from tests import factories


@pytest.fixture
def jian_an_officer(jian_an):
    return factories.DistrictOfficerFactory(district=jian_an)
