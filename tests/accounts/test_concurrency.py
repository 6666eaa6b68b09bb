"""Races between real threads on real PostgreSQL: one phone, one household per address, one use per ticket."""

import pytest

from accounts.errors import InvalidTicket, PhoneTaken
from accounts.models import Household, HouseholdJoinRequest, User, WsTicket
from accounts.services import issue_ws_ticket, join_household, redeem_ws_ticket, register_resident
from tests import factories
from tests.concurrency import run_in_threads
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("xuchang")]

THREADS = 6


def race(work, count=THREADS):
    return run_in_threads(work, count)


def test_one_phone_registered_at_once_in_many_formats_makes_one_account():
    forms = [
        "13800138000",
        "+8613800138000",
        "138 0013 8000",
        "+86 138-0013-8000",
        "008613800138000",
        "138-0013-8000",
    ]

    outcomes = race(lambda i: register_resident(phone=forms[i], password=PASSWORD, display_name=f"p{i}"))

    created = [o for o in outcomes if isinstance(o, User)]
    assert len(created) == 1
    assert all(isinstance(o, PhoneTaken) for o in outcomes if o not in created)
    assert User.objects.filter(phone="+8613800138000").count() == 1
    assert User.objects.get().id == created[0].id


def test_neighbours_joining_an_empty_address_at_once_let_in_only_one():
    community = factories.CommunityFactory()
    residents = [factories.UserFactory() for _ in range(THREADS)]
    spellings = ["5号楼 302", " 5号楼 302", "5号楼  302", "5号楼\t302", "5号楼 302 ", "5号楼\n302"]

    outcomes = race(lambda i: join_household(user=residents[i], community=community, address=spellings[i]))

    # One of them founds the household; the others find it lived in and wait for staff.
    assert all(o.household.id == outcomes[0].household.id for o in outcomes), outcomes
    assert sum(o.request is None for o in outcomes) == 1
    assert Household.objects.filter(community=community).count() == 1
    homes = [u.household_id for u in User.objects.filter(id__in=[r.id for r in residents])]
    assert homes.count(outcomes[0].household.id) == 1 and homes.count(None) == THREADS - 1
    assert HouseholdJoinRequest.objects.filter(status="pending").count() == THREADS - 1


def test_a_ticket_raced_by_many_sockets_is_spent_once():
    user = factories.ResidentFactory()
    ticket, _ = issue_ws_ticket(user=user)

    outcomes = race(lambda i: redeem_ws_ticket(ticket))

    winners = [o for o in outcomes if isinstance(o, User)]
    assert len(winners) == 1 and winners[0].id == user.id
    assert all(isinstance(o, InvalidTicket) for o in outcomes if o not in winners)
    assert WsTicket.objects.get().used_at is not None
