import pytest

from accounts.selectors import can_manage_district, inspected_communities, visible_districts
from geo.models import District
from tests import factories

pytestmark = pytest.mark.django_db


def test_city_officers_and_admins_see_every_district(city_officer, admin_user):
    assert visible_districts(city_officer).count() == 9
    assert visible_districts(admin_user).count() == 9


def test_district_staff_see_only_their_district(district_officer, weidu):
    inspector = factories.InspectorFactory(district=weidu)

    assert list(visible_districts(district_officer)) == [weidu]
    assert list(visible_districts(inspector)) == [weidu]


def test_residents_and_unplaced_merchants_see_no_district(resident):
    assert not visible_districts(resident).exists()
    assert not visible_districts(factories.MerchantFactory()).exists()


def test_an_inspector_inspects_only_assigned_communities(weidu):
    assigned, other = factories.CommunityFactory(district=weidu), factories.CommunityFactory(district=weidu)
    inspector = factories.InspectorFactory(district=weidu, communities=[assigned])

    assert list(inspected_communities(inspector)) == [assigned]
    assert other not in inspected_communities(inspector)


def test_a_district_officer_inspects_the_communities_of_their_district(district_officer, weidu, jian_an):
    mine = factories.CommunityFactory(district=weidu)
    factories.CommunityFactory(district=jian_an)

    assert list(inspected_communities(district_officer)) == [mine]


def test_who_manages_which_district(district_officer, city_officer, admin_user, resident, weidu, jian_an):
    assert can_manage_district(district_officer, weidu)
    assert not can_manage_district(district_officer, jian_an)
    assert all(can_manage_district(city_officer, d) for d in District.objects.all())
    assert all(can_manage_district(admin_user, d) for d in District.objects.all())
    assert not can_manage_district(resident, weidu)
    assert not can_manage_district(factories.InspectorFactory(district=weidu), weidu)
