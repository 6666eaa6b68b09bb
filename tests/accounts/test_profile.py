"""A user changes what they show of themselves: a clean display name, and whether they are ranked."""

import pytest

from accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db

RLO, ZWSP, ZWJ, BOM, LRI, PDI = "\u202e", "\u200b", "\u200d", "\ufeff", "\u2066", "\u2069"


def test_a_resident_opts_in_to_leaderboards_and_out_again(as_user, resident):
    client = as_user(resident)
    assert resident.leaderboard_opt_in is False

    opted_in = client.patch("/api/v1/me", {"leaderboard": True}, format="json")
    assert opted_in.status_code == 200 and opted_in.json()["leaderboard"] is True
    assert User.objects.get(pk=resident.pk).leaderboard_opt_in is True

    client.patch("/api/v1/me", {"leaderboard": False}, format="json")
    assert User.objects.get(pk=resident.pk).leaderboard_opt_in is False


def test_a_new_account_is_not_on_leaderboards(api, throttle_rates):
    api.post(
        "/api/v1/auth/register",
        {"phone": "13912345678", "password": "sorting-is-fun-42", "display_name": "小张"},
        format="json",
    )
    assert User.objects.get(phone="+8613912345678").leaderboard_opt_in is False


def test_registration_strips_control_bidi_and_zero_width_characters(api, throttle_rates):
    name = f"{BOM}小{ZWSP}王{RLO}gnp.exe{LRI}x{PDI}\t\n 二号{ZWJ}"

    response = api.post(
        "/api/v1/auth/register",
        {"phone": "13912345679", "password": "sorting-is-fun-42", "display_name": name},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["display_name"] == "小王gnp.exex 二号"
    assert User.objects.get(phone="+8613912345679").display_name == "小王gnp.exex 二号"


def test_a_name_of_invisible_characters_only_is_refused_and_nothing_is_written(api, throttle_rates):
    response = api.post(
        "/api/v1/auth/register",
        {"phone": "13912345670", "password": "sorting-is-fun-42", "display_name": f"{ZWSP}{RLO}\u0007"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_display_name"
    assert not User.objects.filter(phone="+8613912345670").exists()


def test_renaming_cleans_the_name_and_an_invisible_one_changes_nothing(as_user, resident):
    client = as_user(resident)
    before = resident.display_name

    refused = client.patch("/api/v1/me", {"display_name": f"{ZWJ}{ZWSP}", "leaderboard": True}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_display_name"
    stored = User.objects.get(pk=resident.pk)
    assert (stored.display_name, stored.leaderboard_opt_in) == (before, False)

    renamed = client.patch("/api/v1/me", {"display_name": f"绿{RLO}叶"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "绿叶"
    assert User.objects.get(pk=resident.pk).display_name == "绿叶"


def test_a_bad_flag_is_a_validation_error(as_user, resident):
    response = as_user(resident).patch("/api/v1/me", {"leaderboard": "perhaps"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "leaderboard" in response.json()["error"]["fields"]
    assert User.objects.get(pk=resident.pk).leaderboard_opt_in is False


def test_a_name_stored_before_cleaning_is_cleaned_when_shown():
    user = factories.ResidentFactory(display_name=f"老{RLO}李")

    assert user.shown_name == "老李"


def test_a_staff_members_name_is_cleaned_as_a_residents_is(as_user, admin_user, weidu):
    response = as_user(admin_user).post(
        "/api/v1/staff",
        {
            "phone": "+8613700002222",
            "password": "sorting-is-fun-42",
            "display_name": f"督{ZWSP}导{RLO}员",
            "role": "inspector",
            "district_id": weidu.id,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert User.objects.get(phone="+8613700002222").display_name == "督导员"


def test_a_kiosk_screen_shows_the_cleaned_name_of_who_claimed_it(community, as_user):
    from kiosks.services import claim_session, open_session
    from tests.kiosks.helpers import make_kiosk, signed

    kiosk = make_kiosk(community)
    legacy = factories.ResidentFactory(household__community=community, display_name=f"王{RLO}{ZWSP}五")
    session, code = open_session(kiosk=kiosk)
    claim_session(resident=legacy, code=code)

    shown = signed("GET", f"/api/v1/kiosk/sessions/{session.pk}", kiosk=kiosk).json()

    assert shown["resident_display_name"] == "王五"
