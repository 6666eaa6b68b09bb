"""References kept without a database constraint (kiosks 0013): Django still refuses to delete a
deposit's community or material, and still removes a deleted kiosk's nonces."""

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from kiosks.models import Deposit, KioskNonce
from rewards.models import Material

from .helpers import deposit_body, make_kiosk, signed

URL = "/api/v1/kiosk/deposits"


@pytest.fixture
def recorded(kiosk, code):
    assert signed("POST", URL, deposit_body(resident_code=code), kiosk=kiosk).status_code == 201
    return Deposit.objects.get()


def test_a_material_a_deposit_names_cannot_be_deleted(recorded):
    with pytest.raises(ProtectedError):
        Material.objects.get(pk=recorded.material_id).delete()

    assert Material.objects.filter(pk=recorded.material_id).exists()


def test_a_community_a_deposit_names_cannot_be_deleted(recorded):
    with pytest.raises(ProtectedError):
        recorded.community.delete()

    assert Deposit.objects.filter(community_id=recorded.community_id).exists()


def test_a_deleted_kiosk_takes_its_nonces_with_it(community):
    kiosk = make_kiosk(community)
    KioskNonce.objects.create(kiosk=kiosk, nonce="c" * 16, seen_at=timezone.now())
    other = make_kiosk(community)
    KioskNonce.objects.create(kiosk=other, nonce="d" * 16, seen_at=timezone.now())

    kiosk.delete()

    assert list(KioskNonce.objects.values_list("nonce", flat=True)) == ["d" * 16]
