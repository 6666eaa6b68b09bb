"""A kiosk's deposit answered on the server's event loop: one statement, one commit, no thread.

A deposit is the request kiosks send most, and through Django it costs a thread hand-off, the whole
middleware stack and a transaction of its own around one SQL call. This ASGI wrapper answers the
plain case itself: POST /api/v1/kiosk/deposits, a JSON body, a valid kiosk signature from a kiosk the
process has cached, and a deposit the database records (or finds already recorded). It checks exactly
what the Django view checks, with the same code (the signature, the serializer, the JSON parser,
kiosks.services), and sends `kiosks_record_deposit` with the nonce on an autocommit connection.

Everything else goes to Django with the body it read, unchanged: another path, a query string, a host
Django would refuse, plain HTTP where HTTPS is required, a cookie, a bad signature, invalid input, a
cold cache (the ORM cannot run on the loop), and every refusal, which the function rolled back whole,
nonce included, so Django redoes the deposit and answers it in its own words. The edge therefore never
writes an error answer of its own, and a client cannot tell the two paths apart (tests/kiosks/
test_deposit_edge.py compares them header by header).
"""

import asyncio
import io
import json
import logging
import time
from dataclasses import dataclass
from types import SimpleNamespace

import psycopg
import psycopg_pool
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import SynchronousOnlyOperation
from django.db import connections
from django.http.request import split_domain_port, validate_host
from django.utils import timezone, translation
from rest_framework.exceptions import ParseError

from backend import async_database
from backend.errors import DomainError
from backend.observability import context
from backend.observability.middleware import record_request, request_id_from
from kiosks import services

from .kiosks import DepositIn
from .parsers import SafeJSONParser

logger = logging.getLogger(__name__)

PATH = "/api/v1/kiosk/deposits"
ROUTE = "api/v1/kiosk/deposits"
KEYWORD = "Kiosk "
# A cached kiosk row or deposit term this close to expiry is reloaded off the request path, so a kiosk
# that deposits steadily never meets an empty cache (and no deposit waits for a reload).
RELOAD_AHEAD_SECONDS = 1.5
# Hosts Django accepts with DEBUG on and ALLOWED_HOSTS empty.
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


class Delegate(Exception):
    """This request is Django's to answer."""


def _headers(scope) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    for key, value in scope.get("headers", ()):
        key = key.lower()
        if key in found:
            raise Delegate()  # Django joins repeated headers; its own reading is the one that counts
        found[key] = value.decode("latin-1")
    return found


def _is_secure(scope, headers: dict[bytes, str]) -> bool:
    # As HttpRequest.is_secure: the configured proxy header when present, else the connection's scheme.
    if settings.SECURE_PROXY_SSL_HEADER:
        name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        wire = name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        if wire in headers:
            return headers[wire].split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def _checked_host(headers: dict[bytes, str]) -> None:
    if settings.USE_X_FORWARDED_HOST or b"host" not in headers:
        raise Delegate()
    domain, _port = split_domain_port(headers[b"host"])
    allowed = settings.ALLOWED_HOSTS or (DEBUG_HOSTS if settings.DEBUG else [])
    if not domain or not validate_host(domain, allowed):
        raise Delegate()


def _is_json(content_type: str) -> bool:
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    params = params.strip().lower().replace(" ", "")
    return params in ("", "charset=utf-8")


def _language(headers: dict[bytes, str]) -> str:
    # Django's own choice (LocaleMiddleware), from a request that has no cookies: any cookie delegates.
    stand_in = SimpleNamespace(COOKIES={}, META={"HTTP_ACCEPT_LANGUAGE": headers.get(b"accept-language", "")})
    return translation.get_language_from_request(stand_in)


def _payload(body: bytes) -> dict:
    try:
        document = SafeJSONParser().parse(io.BytesIO(body))
    except ParseError:
        raise Delegate() from None
    data = DepositIn(data=document)
    if not data.is_valid():
        raise Delegate()
    return data.validated_data


@dataclass(frozen=True)
class Credentials:
    """What a signed request says of its kiosk, read from its headers once."""

    kiosk_id: str
    signature: str
    timestamp: str
    nonce: str


def _credentials(headers: dict[bytes, str]) -> Credentials:
    """`Authorization: Kiosk <id>:<signature>`, `X-Timestamp` and `X-Nonce`."""
    authorization = headers.get(b"authorization", "")
    if not authorization.startswith(KEYWORD):
        raise Delegate()
    kiosk_id, _, signature = authorization[len(KEYWORD) :].strip().partition(":")
    return Credentials(kiosk_id, signature, headers.get(b"x-timestamp", ""), headers.get(b"x-nonce", ""))


def _kiosk(credentials: Credentials, body: bytes):
    try:
        return services.verified_kiosk(
            kiosk_id=credentials.kiosk_id,
            signature=credentials.signature,
            timestamp=credentials.timestamp,
            nonce=credentials.nonce,
            method="POST",
            path=PATH,
            body=body,
            now=timezone.now(),
        )
    except DomainError:
        raise Delegate() from None


async def _off_loop(fill, **kwargs) -> None:
    """Run a cache fill in a worker thread of the loop's executor, which keeps no connection after."""

    def run():
        try:
            fill(**kwargs)
        finally:
            connections.close_all()

    await sync_to_async(run, thread_sensitive=False)()


def _response_headers(body: bytes, *, request_id: str, language: str, secure: bool) -> list:
    # What Django's stack sends with the same answer: DRF's Allow, LocaleMiddleware's Vary and
    # Content-Language, SecurityMiddleware's and XFrameOptionsMiddleware's policies.
    sent = [
        (b"content-type", b"application/json"),
        (b"vary", b"Accept-Language"),
        (b"allow", b"POST, OPTIONS"),
        (b"x-frame-options", settings.X_FRAME_OPTIONS.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"content-language", language.encode()),
    ]
    if secure and settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        sent.append((b"strict-transport-security", hsts.encode()))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        sent.append((b"x-content-type-options", b"nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        sent.append((b"referrer-policy", settings.SECURE_REFERRER_POLICY.encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        sent.append((b"cross-origin-opener-policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()))
    sent.append((b"x-request-id", request_id.encode()))
    return sent


async def _read_body(receive) -> tuple[bytes, list]:
    """The whole body, and every message read (a disconnect included) to hand on if Django answers."""
    chunks, messages = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return b"".join(chunks), messages
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), messages


class DepositEdge:
    def __init__(self, app):
        self.app = app
        # Kiosks whose caches are being reloaded ahead, so a burst of their deposits starts one reload.
        self._reloading: set[int] = set()
        self._reloads: set = set()

    async def __call__(self, scope, receive, send):
        if not self._candidate(scope):
            return await self.app(scope, receive, send)
        body, messages = await _read_body(receive)
        if messages[-1]["type"] == "http.request":
            started = time.perf_counter()
            answered = False

            async def tracked_send(message):
                nonlocal answered
                answered = True
                await send(message)

            try:
                return await self._answer(scope, body, tracked_send, started)
            except Delegate:
                pass
            except Exception:
                if answered:
                    raise
                # Django redoing a request is always safe: a deposit already recorded is found by its
                # id, and a spent nonce is refused; a client gets Django's answer, never a bare 500.
                logger.exception("deposit edge failed; Django answers instead")
        return await self.app(scope, self._replay(messages, receive), send)

    @staticmethod
    def _candidate(scope) -> bool:
        return (
            scope["type"] == "http"
            and settings.DEPOSIT_EDGE
            and scope.get("method") == "POST"
            and scope.get("path") == PATH
            and not scope.get("query_string")
            and not scope.get("root_path")
        )

    @staticmethod
    def _replay(messages: list, receive):
        pending = list(messages)

        async def replayed():
            if pending:
                return pending.pop(0)
            return await receive()

        return replayed

    async def _answer(self, scope, body: bytes, send, started: float) -> None:
        headers = _headers(scope)
        _checked_host(headers)
        secure = _is_secure(scope, headers)
        if (settings.SECURE_SSL_REDIRECT and not secure) or b"cookie" in headers:
            raise Delegate()
        if not _is_json(headers.get(b"content-type", "")):
            raise Delegate()
        payload = _payload(body)
        request_id = request_id_from(headers.get(b"x-request-id", ""))
        token = context.request_id.set(request_id)
        try:
            kiosk, outcome = await self._record(headers, body, payload)
            answer = json.dumps(outcome.body, ensure_ascii=False, separators=(",", ":")).encode()
            status = 201 if outcome.created else 200
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": _response_headers(
                        answer, request_id=request_id, language=_language(headers), secure=secure
                    ),
                }
            )
            await send({"type": "http.response.body", "body": answer})
            record_request(
                method="POST",
                route=ROUTE,
                status=status,
                elapsed=time.perf_counter() - started,
                path=PATH,
                who={"kiosk_id": kiosk.pk},
            )
            self._reload_ahead(kiosk)
        finally:
            context.request_id.reset(token)

    def _reload_ahead(self, kiosk) -> None:
        if kiosk.pk in self._reloading:
            return
        if not services.deposit_caches_expiring(kiosk=kiosk, within=RELOAD_AHEAD_SECONDS):
            return
        self._reloading.add(kiosk.pk)
        task = asyncio.get_running_loop().create_task(self._reload(kiosk.pk))
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _reload(self, kiosk_pk: int) -> None:
        try:
            await _off_loop(
                services.reload_expiring_deposit_caches, kiosk_pk=kiosk_pk, within=RELOAD_AHEAD_SECONDS
            )
        except Exception:
            # The next deposit reloads on its own path; nothing waits for this one.
            logger.warning("deposit edge: reloading kiosk %s ahead failed", kiosk_pk, exc_info=True)
        finally:
            self._reloading.discard(kiosk_pk)

    async def _record(self, headers: dict[bytes, str], body: bytes, payload: dict):
        """The kiosk and the recorded deposit. A cache the ORM must fill first (the kiosk's row after its
        few seconds, a rotated secret, the rules and materials) is filled off the loop and the deposit
        tried once more; cold again, it is Django's."""
        credentials = _credentials(headers)
        try:
            return await self._record_from_caches(credentials, body, payload)
        except SynchronousOnlyOperation:
            await _off_loop(services.warm_deposit_caches, kiosk_id=credentials.kiosk_id)
        try:
            return await self._record_from_caches(credentials, body, payload)
        except SynchronousOnlyOperation:
            raise Delegate() from None

    @staticmethod
    async def _record_from_caches(credentials: Credentials, body: bytes, payload: dict):
        kiosk = _kiosk(credentials, body)
        try:
            async with async_database.connection() as connection:
                outcome = await services.record_deposit_on(
                    connection,
                    kiosk=kiosk,
                    payload=payload,
                    nonce=credentials.nonce,
                    prepare=settings.ASYNC_DATABASE_PREPARE,
                )
        except DomainError:
            raise Delegate() from None
        except (psycopg.Error, psycopg_pool.PoolTimeout):
            logger.warning("deposit edge: the database failed; Django answers instead", exc_info=True)
            raise Delegate() from None
        return kiosk, outcome
