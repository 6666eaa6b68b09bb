"""A plain deposit is answered on the event loop in one statement (api/deposit_edge.py); everything
else goes to Django, and the two answer alike. Over ASGI, as production serves it."""

import asyncio
import json
import secrets
import time
import uuid
from datetime import timedelta

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings
from django.utils import timezone

from accounts.services import issue_resident_code
from api import deposit_edge
from api.deposit_edge import DepositEdge
from backend import async_database
from backend.body_limit import BodyLimitMiddleware
from backend.realtime import publish as publish_module
from backend.realtime.groups import user_group
from kiosks import kiosk_cache, services
from kiosks.credentials import sign
from kiosks.models import Deposit, Kiosk, KioskNonce, KioskSession
from rewards.models import Account
from rewards.selectors import cached_materials, rules_in_force
from tests.factories import ResidentFactory
from tests.rewards.helpers import assert_ledger_consistent, rules_now

from .helpers import deposit_body, make_kiosk, secret_of

URL = "/api/v1/kiosk/deposits"

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


class CountingDjango:
    """Django's ASGI handler, counting the requests the edge handed to it. Made at the first request, so
    its middleware reads the settings the test overrides, as a server's reads them at start."""

    def __init__(self):
        self.calls = 0
        self.handler = None

    async def __call__(self, scope, receive, send):
        self.calls += 1
        self.handler = self.handler or ASGIHandler()
        await self.handler(scope, receive, send)


@pytest_asyncio.fixture
async def edge():
    django = CountingDjango()
    inner = DepositEdge(django)
    app = BodyLimitMiddleware(inner)
    app.django, app.inner = django, inner
    yield app
    await asyncio.gather(*inner._reloads, return_exceptions=True)
    await async_database.close()


def _warm(kiosk):
    # What the first deposit through Django leaves in the process: the edge reads only these caches.
    kiosk_cache.get(kiosk.pk)
    rules_in_force(kiosk.community.district.city_id)
    cached_materials()


async def warm(kiosk):
    await sync_to_async(_warm)(kiosk)


async def post(
    app, body, *, kiosk, headers=None, nonce=None, timestamp=None, path=URL, raw=None, secret=None
):
    raw = json.dumps(body).encode() if raw is None else raw
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    nonce = nonce or secrets.token_hex(12)
    signature = sign(secret or secret_of(kiosk), "POST", path, timestamp, nonce, raw)
    sent = {
        b"host": b"testserver",
        b"content-type": b"application/json",
        b"content-length": str(len(raw)).encode(),
        b"authorization": f"Kiosk {kiosk.pk}:{signature}".encode(),
        b"x-timestamp": timestamp.encode(),
        b"x-nonce": nonce.encode(),
    }
    sent.update(headers or {})
    communicator = HttpCommunicator(
        app, "POST", path, body=raw, headers=[(k, v) for k, v in sent.items() if v is not None]
    )
    response = await communicator.get_response(timeout=20)
    answered = {key.decode().lower(): value.decode() for key, value in response["headers"]}
    return response["status"], answered, json.loads(response["body"]) if response["body"] else None


@sync_to_async
def balance(user):
    return Account.objects.filter(owner=user).values_list("balance", flat=True).first() or 0


@sync_to_async
def deposits():
    return list(Deposit.objects.order_by("received_at").values("deposit_id", "weight_g", "points_awarded"))


@sync_to_async
def ledger_consistent():
    assert_ledger_consistent()


async def test_a_plain_deposit_is_answered_on_the_loop_spending_its_nonce(edge, kiosk, resident, code, layer):
    await warm(kiosk)
    body = deposit_body(resident_code=code, weight_g=2500)

    status, _headers, answer = await post(edge, body, kiosk=kiosk, nonce="edge-nonce-0001-abcdef")

    assert status == 201, answer
    assert answer == {"deposit_id": body["deposit_id"], "points_awarded": 50, "balance": 50}
    assert edge.django.calls == 0
    assert await deposits() == [
        {"deposit_id": uuid.UUID(body["deposit_id"]), "weight_g": 2500, "points_awarded": 50}
    ]
    assert (
        await sync_to_async(KioskNonce.objects.filter(kiosk=kiosk, nonce="edge-nonce-0001-abcdef").count)()
        == 1
    )
    assert await balance(resident) == 50
    await ledger_consistent()
    assert publish_module.drain(5)
    credited = [m for g, m in layer.sent if g == user_group(resident.pk)]
    assert [m["event"] for m in credited] == ["points.credited"]
    assert credited[0]["data"]["amount"] == 50 and credited[0]["data"]["balance"] == 50


async def test_a_retry_gets_the_first_answer_and_another_body_is_a_conflict_from_django(
    edge, kiosk, resident, code
):
    await warm(kiosk)
    body = deposit_body(resident_code=code)
    first = await post(edge, body, kiosk=kiosk)

    again = await post(edge, body, kiosk=kiosk)
    conflict = await post(edge, {**body, "weight_g": 9000}, kiosk=kiosk)

    assert (first[0], again[0]) == (201, 200) and again[2] == first[2]
    assert edge.django.calls == 1  # only the conflict
    assert conflict[0] == 409 and conflict[2]["error"]["code"] == "idempotency_conflict"
    assert [d["weight_g"] for d in await deposits()] == [2500]
    assert await balance(resident) == 50


async def test_a_cold_cache_is_filled_off_the_loop_and_the_deposit_stays_on_the_edge(
    edge, kiosk, resident, code
):
    first = await post(edge, deposit_body(resident_code=code, weight_g=1000), kiosk=kiosk)
    second = await post(edge, deposit_body(resident_code=code, weight_g=1000), kiosk=kiosk)

    assert (first[0], second[0]) == (201, 201)
    assert edge.django.calls == 0
    assert [d["points_awarded"] for d in await deposits()] == [20, 20]
    await ledger_consistent()


@pytest.mark.parametrize(
    ("overrides", "sent"),
    [
        ({}, {}),
        (
            {
                "SECURE_SSL_REDIRECT": True,
                "SECURE_HSTS_SECONDS": 31536000,
                "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
                "SECURE_HSTS_PRELOAD": True,
            },
            {
                b"x-forwarded-proto": b"https",
                b"accept-language": b"en-GB,en;q=0.8",
                b"x-request-id": b"trace-1234-abcd",
            },
        ),
    ],
    ids=["development", "production-behind-tls-proxy"],
)
async def test_the_edge_answers_as_django_does_header_for_header(edge, community, overrides, sent):
    kiosks = [await sync_to_async(make_kiosk)(community, name=f"{n}号机") for n in range(2)]
    residents = [await sync_to_async(ResidentFactory)(household__community=community) for _ in range(2)]
    codes = [await sync_to_async(lambda r: issue_resident_code(r)[0])(r) for r in residents]
    answers = []
    with override_settings(**overrides):
        for on, kiosk, code in zip((False, True), kiosks, codes, strict=True):
            await warm(kiosk)
            with override_settings(DEPOSIT_EDGE=on):
                answers.append(await post(edge, deposit_body(resident_code=code), kiosk=kiosk, headers=sent))
    (django_status, django_headers, django_body), (edge_status, edge_headers, edge_body) = answers

    assert edge.django.calls == 1
    assert django_status == edge_status == 201
    assert {k: v for k, v in edge_body.items() if k != "deposit_id"} == {
        k: v for k, v in django_body.items() if k != "deposit_id"
    }
    if b"x-request-id" in sent:
        assert edge_headers["x-request-id"] == django_headers["x-request-id"] == "trace-1234-abcd"
    else:
        assert len(edge_headers["x-request-id"]) == 32
    edge_headers.pop("x-request-id"), django_headers.pop("x-request-id")
    assert edge_headers == django_headers
    if overrides:
        assert "preload" in edge_headers["strict-transport-security"]
        assert edge_headers["content-language"] == "en"


@pytest.mark.parametrize(
    ("spoil", "status", "error"),
    [
        ({"secret": "0" * 64}, 401, "bad_signature"),
        ({"timestamp": "1000"}, 401, "bad_signature"),
        ({"nonce": "x"}, 401, "bad_signature"),
    ],
)
async def test_a_request_the_signature_refuses_is_answered_by_django(
    edge, kiosk, resident, code, spoil, status, error
):
    await warm(kiosk)

    answered, _headers, answer = await post(edge, deposit_body(resident_code=code), kiosk=kiosk, **spoil)

    assert edge.django.calls == 1
    assert answered == status and answer["error"]["code"] == error
    assert "server_time" in answer["error"]
    assert await deposits() == []


async def test_a_reused_nonce_is_refused_and_credits_nothing(edge, kiosk, resident, code):
    await warm(kiosk)
    assert (await post(edge, deposit_body(resident_code=code), kiosk=kiosk, nonce="same-nonce-42-abcdef"))[
        0
    ] == 201

    status, _headers, answer = await post(
        edge, deposit_body(resident_code=code), kiosk=kiosk, nonce="same-nonce-42-abcdef"
    )

    assert status == 401 and answer["error"]["code"] == "bad_signature"
    assert len(await deposits()) == 1 and await balance(resident) == 50


async def test_disabling_a_kiosk_reaches_the_edge_at_once(edge, kiosk, resident, code, city_officer):
    await warm(kiosk)
    await sync_to_async(services.update_kiosk)(actor=city_officer, kiosk=kiosk, enabled=False)

    status, _headers, answer = await post(edge, deposit_body(resident_code=code), kiosk=kiosk)

    assert status == 403 and answer["error"]["code"] == "kiosk_disabled"
    assert await deposits() == []


@pytest.mark.parametrize(
    ("fields", "status", "error", "nonces_kept"),
    [
        # Refused by the serializer: the view's transaction commits the nonce, as it always has.
        ({"weight_g": 0}, 400, "validation_error", 1),
        # Refused by the deposit function: its rollback takes the nonce too.
        ({"material": "uranium"}, 400, "unknown_material", 0),
        ({"weight_g": 10}, 400, "implausible_weight", 0),
        ({"session_id": str(uuid.uuid4()), "resident_code": None}, 404, "session_not_found", 0),
    ],
)
async def test_a_refused_deposit_writes_nothing_and_django_answers_it(
    edge, kiosk, resident, code, fields, status, error, nonces_kept
):
    await warm(kiosk)

    answered, _headers, answer = await post(
        edge, {**deposit_body(resident_code=code), **fields}, kiosk=kiosk, nonce="refused-nonce-1-abcdef"
    )

    assert (answered, answer["error"]["code"]) == (status, error), answer
    assert edge.django.calls == 1
    assert await deposits() == []
    assert (
        await sync_to_async(KioskNonce.objects.filter(nonce="refused-nonce-1-abcdef").count)() == nonces_kept
    )


async def test_a_stale_deposit_is_refused_but_its_retry_still_gets_the_first_answer(
    edge, kiosk, resident, code
):
    await warm(kiosk)
    body = deposit_body(resident_code=code)
    assert (await post(edge, body, kiosk=kiosk))[0] == 201

    with override_settings(DEPOSIT_CLOCK_TOLERANCE_SECONDS=300):
        stale = await post(
            edge,
            deposit_body(resident_code=code, occurred_at=(timezone.now() - timedelta(days=30)).isoformat()),
            kiosk=kiosk,
        )
    retry = await post(edge, body, kiosk=kiosk)

    assert stale[0] == 400 and stale[2]["error"]["code"] == "stale_deposit"
    assert retry[0] == 200 and retry[2]["points_awarded"] == 50


async def test_a_claimed_session_deposits_on_the_edge(edge, kiosk, resident):
    session = await sync_to_async(KioskSession.objects.create)(
        kiosk=kiosk,
        status=KioskSession.Status.CLAIMED,
        resident=resident,
        claimed_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    await warm(kiosk)

    status, _headers, answer = await post(
        edge, deposit_body(session_id=str(session.pk), weight_g=5000), kiosk=kiosk
    )

    assert (status, answer["points_awarded"], edge.django.calls) == (201, 100, 0)
    assert await balance(resident) == 100


async def test_the_caps_hold_exactly_on_the_edge(edge, kiosk, resident, code):
    await sync_to_async(rules_now)(kiosk.community.district.city_id, resident_daily_deposit_points_cap=70)
    await warm(kiosk)

    answers = [
        await post(edge, deposit_body(resident_code=code, weight_g=2500), kiosk=kiosk) for _ in range(3)
    ]

    assert [a[2]["points_awarded"] for a in answers] == [50, 20, 0]
    assert edge.django.calls == 0
    assert await balance(resident) == 70
    await ledger_consistent()


async def test_concurrent_retries_on_the_edge_credit_once(edge, kiosk, resident, code):
    await warm(kiosk)
    body = deposit_body(resident_code=code)

    answers = await asyncio.gather(*(post(edge, body, kiosk=kiosk) for _ in range(16)))

    assert sorted(a[0] for a in answers) == [200] * 15 + [201]
    assert {a[2]["points_awarded"] for a in answers} == {50}
    assert len(await deposits()) == 1 and await balance(resident) == 50
    await ledger_consistent()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (URL + "?x=1", {}),
        (URL, {b"content-type": b"text/plain"}),
        (URL, {b"host": b"evil.example"}),
        (URL, {b"cookie": b"django_language=en"}),
    ],
    ids=["query-string", "not-json", "unknown-host", "cookie"],
)
async def test_anything_unusual_is_left_to_django(edge, kiosk, resident, code, path, headers):
    await warm(kiosk)

    status, _headers, _answer = await post(
        edge, deposit_body(resident_code=code), kiosk=kiosk, path=path, headers=headers
    )

    assert edge.django.calls == 1
    assert status in (201, 400, 415)


async def test_with_the_edge_off_every_deposit_goes_to_django(edge, kiosk, resident, code):
    await warm(kiosk)

    with override_settings(DEPOSIT_EDGE=False):
        status, _headers, _answer = await post(edge, deposit_body(resident_code=code), kiosk=kiosk)

    assert (status, edge.django.calls) == (201, 1)


async def test_a_secret_rotated_by_another_process_is_accepted_at_once(edge, kiosk, resident, code):
    await warm(kiosk)
    old = secret_of(kiosk)
    # As another process rotates it: the row changes, this process's cache is not told.
    await sync_to_async(Kiosk.objects.filter(pk=kiosk.pk).update)(secret_version=2)
    new = secret_of(kiosk, 2)

    first = await post(edge, deposit_body(resident_code=code, weight_g=1000), kiosk=kiosk, secret=new)
    second = await post(edge, deposit_body(resident_code=code, weight_g=1000), kiosk=kiosk, secret=new)
    old_refused = await post(edge, deposit_body(resident_code=code), kiosk=kiosk, secret=old)

    assert (first[0], second[0]) == (201, 201)
    assert old_refused[0] == 401 and old_refused[2]["error"]["code"] == "bad_signature"
    # The new secret failed against the cached row, which was read afresh; only the old secret's
    # refusal, failing against the fresh row too, is Django's to answer.
    assert edge.django.calls == 1
    assert [d["points_awarded"] for d in await deposits()] == [20, 20]


async def test_a_kiosk_row_about_to_expire_is_reloaded_after_the_answer_not_before_it(
    edge, kiosk, resident, code, monkeypatch
):
    await warm(kiosk)
    loaded_at = kiosk_cache._entries[kiosk.pk][0]
    # Four of the entry's five seconds gone: still valid, inside the reload-ahead window.
    monkeypatch.setattr(kiosk_cache, "_clock", lambda: loaded_at + kiosk_cache.TTL_SECONDS - 1)

    status, _headers, _answer = await post(edge, deposit_body(resident_code=code), kiosk=kiosk)
    await asyncio.gather(*edge.inner._reloads)

    assert (status, edge.django.calls) == (201, 0)
    assert kiosk_cache._entries[kiosk.pk][0] == loaded_at + kiosk_cache.TTL_SECONDS - 1
    assert not edge.inner._reloading


async def test_a_kiosk_disabled_by_another_process_is_refused_once_the_reload_ahead_has_read_it(
    edge, kiosk, resident, code, monkeypatch
):
    await warm(kiosk)
    loaded_at = kiosk_cache._entries[kiosk.pk][0]
    monkeypatch.setattr(kiosk_cache, "_clock", lambda: loaded_at + kiosk_cache.TTL_SECONDS - 1)
    # Another process disables it: this process's cache is not told.
    await sync_to_async(Kiosk.objects.filter(pk=kiosk.pk).update)(enabled=False)

    before = await post(edge, deposit_body(resident_code=code), kiosk=kiosk)
    await asyncio.gather(*edge.inner._reloads)
    after = await post(edge, deposit_body(resident_code=code), kiosk=kiosk)

    assert before[0] == 201  # inside the cache's few seconds, as documented
    assert after[0] == 403 and after[2]["error"]["code"] == "kiosk_disabled"
    assert len(await deposits()) == 1


async def test_an_unexpected_failure_on_the_edge_is_answered_by_django(
    edge, kiosk, resident, code, monkeypatch
):
    await warm(kiosk)

    def broken(body):
        raise RuntimeError("a fault of the edge's own")

    monkeypatch.setattr(deposit_edge, "_payload", broken)
    status, _headers, answer = await post(edge, deposit_body(resident_code=code), kiosk=kiosk)

    assert (status, edge.django.calls) == (201, 1), answer
    assert len(await deposits()) == 1
