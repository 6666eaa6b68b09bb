"""A kiosk's hostile or broken input is answered with a 4xx or an item error, never a 500."""

import uuid

import pytest

from accounts.services import issue_resident_code
from kiosks.models import Deposit, Kiosk, KioskAlert

from .helpers import deposit_body, make_kiosk, signed

pytestmark = pytest.mark.django_db
BATCH = "/api/v1/kiosk/deposits/batch"
HEARTBEAT = "/api/v1/kiosk/heartbeat"


@pytest.fixture
def kiosk(community):
    return make_kiosk(community)


@pytest.mark.parametrize(
    "spoil",
    [{"deposit_id": "\ud800"}, {"material": "pa\x00per"}, {"resident_code": "x\udfff"}, {"\ud83d": 1}],
    ids=["surrogate-id", "nul-material", "surrogate-code", "surrogate-key"],
)
def test_one_unstorable_item_fails_alone_and_every_retry_answers_the_same(kiosk, resident, spoil):
    code = issue_resident_code(resident)[0]
    first, last = deposit_body(resident_code=code), deposit_body(resident_code=code)
    items = [first, {**deposit_body(resident_code=code), **spoil}, last]

    answers = [signed("POST", BATCH, {"deposits": items}, kiosk=kiosk) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [200, 200]
    first_try, retry = (answer.json()["results"] for answer in answers)
    assert [r.get("status") for r in first_try] == [201, None, 201]
    assert [r.get("status") for r in retry] == [200, None, 200]
    assert first_try[1]["error"]["code"] in {"invalid", "validation_error"}
    assert first_try[1]["deposit_id"] is None or "\ud800" not in first_try[1]["deposit_id"]
    assert set(Deposit.objects.values_list("deposit_id", flat=True)) == {
        uuid.UUID(first["deposit_id"]),
        uuid.UUID(last["deposit_id"]),
    }


@pytest.mark.parametrize(
    "fill_levels",
    [{"p" * 33: 95}, {"\ud800": 95}, {"paper bin": 95}, {f"m{n}": 10 for n in range(51)}],
    ids=["key-over-32", "surrogate-key", "not-a-code", "too-many"],
)
def test_a_heartbeat_with_unusable_fill_levels_is_400_and_changes_nothing(kiosk, fill_levels):
    response = signed("POST", HEARTBEAT, {"status": "ok", "fill_levels": fill_levels}, kiosk=kiosk)

    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"validation_error", "malformed_request"}
    refreshed = Kiosk.objects.get(pk=kiosk.pk)
    assert refreshed.last_heartbeat_at is None
    assert refreshed.fill_levels in ({}, None)
    assert not KioskAlert.objects.exists()


def test_a_heartbeat_naming_a_32_character_code_is_accepted(kiosk):
    response = signed("POST", HEARTBEAT, {"status": "ok", "fill_levels": {"p" * 32: 95}}, kiosk=kiosk)

    assert response.status_code == 204
    assert KioskAlert.objects.get().material == "p" * 32
