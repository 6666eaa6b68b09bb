import time
from datetime import timedelta

import pytest
from django.core import signing as django_signing
from django.utils import timezone

from backend.codes import signing
from backend.codes.signing import (
    BIN,
    KINDS,
    KIOSK_SESSION,
    RESIDENT,
    VOUCHER,
    ExpiredCode,
    InvalidCode,
    expires_at,
    sign,
    verify,
)

OLD_KEY = "old-key-" + "o1P9" * 10
NEW_KEY = "new-key-" + "n7Q2" * 10


@pytest.fixture
def keys(settings):
    """`keys(kind, [newest, ...fallbacks])` sets one kind's key list for the test."""
    settings.CODE_KEYS = {name: [f"{name}-key-" + "a1B2c3D4" * 5] for name in KINDS}

    def set_keys(kind, key_list):
        settings.CODE_KEYS = {**settings.CODE_KEYS, kind.name: key_list}

    return set_keys


pytestmark = pytest.mark.usefixtures("keys")


def _signed_at(kind, payload, seconds_ago: float) -> str:
    real = time.time()
    original = django_signing.time.time
    django_signing.time.time = lambda: real - seconds_ago
    try:
        return sign(kind, payload)
    finally:
        django_signing.time.time = original


def _flip(text: str, index: int) -> str:
    char = text[index]
    replacement = "A" if char != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize("kind", [BIN, KIOSK_SESSION, RESIDENT, VOUCHER])
def test_a_genuine_code_verifies_to_its_payload(kind):
    code = sign(kind, {"id": 42, "x": "y"})

    assert verify(kind, code) == {"id": 42, "x": "y"}


@pytest.mark.parametrize("kind", [BIN, KIOSK_SESSION, RESIDENT, VOUCHER])
def test_a_code_is_refused_as_every_other_kind(kind):
    code = sign(kind, {"id": 1})

    for other in KINDS.values():
        if other is not kind:
            with pytest.raises(InvalidCode):
                verify(other, code)


def test_kinds_stay_apart_even_when_they_share_a_key(keys):
    shared = ["shared-" + "s9T8u7V6" * 5]
    for kind in KINDS.values():
        keys(kind, shared)
    code = sign(BIN, {"id": 1})

    with pytest.raises(InvalidCode):
        verify(VOUCHER, code)


def test_a_payload_claiming_another_kind_is_refused(settings):
    key = settings.CODE_KEYS["resident"][0]
    code = django_signing.dumps(
        {"k": "bin", "id": 1}, key=key, salt="greenloop.codes.resident", compress=True
    )

    with pytest.raises(InvalidCode):
        verify(RESIDENT, code)


def test_a_code_forged_with_another_key_is_refused():
    forged = django_signing.dumps(
        {"k": "bin", "id": 1}, key="attacker-" + "z" * 40, salt="greenloop.codes.bin", compress=True
    )

    with pytest.raises(InvalidCode):
        verify(BIN, forged)


def test_a_code_signed_with_the_secret_key_is_refused():
    forged = django_signing.dumps({"k": "bin", "id": 1}, salt="greenloop.codes.bin", compress=True)

    with pytest.raises(InvalidCode):
        verify(BIN, forged)


@pytest.mark.parametrize("kind", [BIN, RESIDENT])
def test_every_single_character_mutation_is_refused(kind):
    code = sign(kind, {"id": 7, "n": "abcdef"})
    signature_start = code.rindex(":") + 1

    mutated = {_flip(code, i) for i in range(len(code))} - {code}

    assert len(mutated) == len(code)
    for variant in mutated:
        with pytest.raises(InvalidCode):
            verify(kind, variant)
    with pytest.raises(InvalidCode):
        verify(kind, _flip(code, 1))
    with pytest.raises(InvalidCode):
        verify(kind, _flip(code, signature_start + 3))


@pytest.mark.parametrize(
    "garbage", [None, 42, b"bytes", "", "no-colons", "a:b:c", "x" * 1000, "码:码:码", ["list"], ".:::"]
)
def test_garbage_is_invalid_never_an_exception_of_another_type(garbage):
    with pytest.raises(InvalidCode):
        verify(BIN, garbage)


def test_a_code_with_a_swapped_signature_is_refused():
    one, two = sign(BIN, {"id": 1}), sign(BIN, {"id": 2})
    spliced = one.rsplit(":", 1)[0] + ":" + two.rsplit(":", 1)[1]

    with pytest.raises(InvalidCode):
        verify(BIN, spliced)


@pytest.mark.parametrize("kind", [KIOSK_SESSION, RESIDENT])
def test_a_short_lived_code_expires(kind):
    fresh = _signed_at(kind, {"id": 1}, seconds_ago=kind.max_age.total_seconds() - 5)
    stale = _signed_at(kind, {"id": 1}, seconds_ago=kind.max_age.total_seconds() + 1)

    assert verify(kind, fresh) == {"id": 1}
    with pytest.raises(ExpiredCode) as refused:
        verify(kind, stale)
    assert refused.value.code == "code_expired"


@pytest.mark.parametrize("kind", [BIN, VOUCHER])
def test_printed_codes_never_expire(kind):
    old = _signed_at(kind, {"id": 1}, seconds_ago=5 * 365 * 86400)

    assert verify(kind, old) == {"id": 1}


def test_expires_at_follows_the_kind():
    now = timezone.now()

    assert expires_at(RESIDENT, now) == now + timedelta(minutes=2)
    assert expires_at(KIOSK_SESSION, now) == now + timedelta(minutes=2)
    assert expires_at(BIN, now) is None
    assert expires_at(VOUCHER, now) is None


def test_a_code_signed_with_the_old_key_verifies_while_it_is_a_fallback(keys):
    keys(BIN, [OLD_KEY])
    printed = sign(BIN, {"id": 9})

    keys(BIN, [NEW_KEY, OLD_KEY])
    assert verify(BIN, printed) == {"id": 9}
    assert verify(BIN, sign(BIN, {"id": 10})) == {"id": 10}

    keys(BIN, [NEW_KEY])
    with pytest.raises(InvalidCode):
        verify(BIN, printed)


def test_new_codes_are_signed_with_the_newest_key(keys):
    keys(VOUCHER, [NEW_KEY, OLD_KEY])
    code = sign(VOUCHER, {"id": 3})

    keys(VOUCHER, [NEW_KEY])
    assert verify(VOUCHER, code) == {"id": 3}
    keys(VOUCHER, [OLD_KEY])
    with pytest.raises(InvalidCode):
        verify(VOUCHER, code)


def test_rotating_secret_key_leaves_bin_labels_valid(settings):
    label = sign(BIN, {"bin": 123})

    settings.SECRET_KEY = "a-completely-new-secret-key-" + "Qx7" * 10
    settings.SECRET_KEY_FALLBACKS = []

    assert verify(BIN, label) == {"bin": 123}


def test_codes_fit_the_length_limit_and_are_ascii():
    code = sign(RESIDENT, {"u": "0" * 32, "n": "abcdef"})

    assert code.isascii()
    assert len(code) < signing.MAX_CODE_LENGTH / 2
