"""Households are real: joining one that has members takes a member's invitation or staff approval."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import HouseholdInvitation, HouseholdJoinRequest, User
from tests import factories

JOIN = "/api/v1/me/household"
INVITE = "/api/v1/me/household/invitations"
REQUESTS = "/api/v1/household-requests"


@pytest.fixture
def member(resident):
    return resident


def join(client, household, **fields):
    return client.post(
        JOIN, {"community_id": household.community_id, "address": household.address, **fields}, format="json"
    )


def home_of(user):
    return User.objects.get(pk=user.pk).household_id


def test_a_members_invitation_lets_one_resident_in_once(as_user, member):
    newcomer, stranger = factories.UserFactory(), factories.UserFactory()
    invited = as_user(member).post(INVITE)
    assert invited.status_code == 201
    code = invited.json()["code"]

    joined = join(as_user(newcomer), member.household, invitation_code=code)
    again = join(as_user(stranger), member.household, invitation_code=code)

    assert joined.status_code == 200 and joined.json()["id"] == member.household_id
    assert home_of(newcomer) == member.household_id
    assert again.status_code == 409 and again.json()["error"]["code"] == "code_used"
    assert home_of(stranger) is None
    # Only a digest is stored: the code itself is nowhere in the table.
    assert not HouseholdInvitation.objects.filter(digest=code).exists()


def test_an_invitation_is_good_for_its_own_household_only(as_user, member, community):
    other = factories.ResidentFactory(household__community=community)
    code = as_user(other).post(INVITE).json()["code"]
    newcomer = factories.UserFactory()

    refused = join(as_user(newcomer), member.household, invitation_code=code)

    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_code"
    assert home_of(newcomer) is None and not HouseholdJoinRequest.objects.exists()


def test_an_expired_or_forged_invitation_is_refused(as_user, member):
    code = as_user(member).post(INVITE).json()["code"]
    HouseholdInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    newcomer = factories.UserFactory()

    expired = join(as_user(newcomer), member.household, invitation_code=code)
    forged = join(as_user(newcomer), member.household, invitation_code="x" * 16)

    assert expired.status_code == 410 and expired.json()["error"]["code"] == "code_expired"
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_code"
    assert home_of(newcomer) is None


def test_a_resident_without_a_household_cannot_invite(as_user, db):
    response = as_user(factories.UserFactory()).post(INVITE)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_household"
    assert not HouseholdInvitation.objects.exists()


def test_without_an_invitation_the_request_waits_for_the_communitys_staff(as_user, member, community, weidu):
    newcomer = factories.UserFactory()
    inspector = factories.InspectorFactory(district=weidu, communities=[community])

    pending = join(as_user(newcomer), member.household)
    listed = as_user(inspector).get(REQUESTS, {"status": "pending"})

    assert pending.status_code == 202 and pending.json()["status"] == "pending"
    assert home_of(newcomer) is None
    assert [r["id"] for r in listed.json()["results"]] == [pending.json()["id"]]
    approved = as_user(inspector).post(f"{REQUESTS}/{pending.json()['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert home_of(newcomer) == member.household_id
    twice = as_user(inspector).post(f"{REQUESTS}/{pending.json()['id']}/refuse")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "request_decided"
    assert home_of(newcomer) == member.household_id


def test_a_refused_request_leaves_the_resident_where_they_were(as_user, member, district_officer):
    newcomer = factories.UserFactory()
    request_id = join(as_user(newcomer), member.household).json()["id"]

    refused = as_user(district_officer).post(f"{REQUESTS}/{request_id}/refuse")

    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert home_of(newcomer) is None


def test_staff_of_another_district_neither_see_nor_decide(as_user, member, jian_an):
    outsider = factories.DistrictOfficerFactory(district=jian_an)
    elsewhere_inspector = factories.InspectorFactory(
        district=jian_an, communities=[factories.CommunityFactory(district=jian_an)]
    )
    newcomer = factories.UserFactory()
    request_id = join(as_user(newcomer), member.household).json()["id"]

    for staff in (outsider, elsewhere_inspector):
        assert as_user(staff).get(REQUESTS).json()["results"] == []
        assert as_user(staff).post(f"{REQUESTS}/{request_id}/approve").status_code == 404
    assert as_user(newcomer).get(REQUESTS).status_code == 403
    assert home_of(newcomer) is None
    assert HouseholdJoinRequest.objects.get().status == "pending"


def test_a_new_request_withdraws_the_residents_earlier_one(as_user, member, community):
    other = factories.ResidentFactory(household__community=community)
    newcomer = factories.UserFactory()
    join(as_user(newcomer), member.household)

    join(as_user(newcomer), other.household)

    assert list(HouseholdJoinRequest.objects.order_by("id").values_list("status", flat=True)) == [
        "withdrawn",
        "pending",
    ]


def test_an_address_nobody_lives_at_is_joined_at_once(as_user, community):
    user = factories.UserFactory()
    response = as_user(user).post(
        JOIN, {"community_id": community.id, "address": "12号楼 3单元"}, format="json"
    )
    assert response.status_code == 200 and home_of(user) == response.json()["id"]
