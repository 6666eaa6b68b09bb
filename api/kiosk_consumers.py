"""`/ws/kiosk/`: a kiosk learns at once that a resident claimed the session on its screen."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from backend.errors import DomainError
from backend.realtime.groups import kiosk_group
from kiosks import services

from .consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHORISED, EventConsumer


def _handshake_credentials(scope) -> dict:
    """Signed like a GET of the socket path with an empty body. Firmware whose WebSocket client cannot
    set headers may pass `authorization`, `timestamp` and `nonce` as query parameters instead."""
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])
    }
    query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
    authorization = headers.get("authorization") or query.get("authorization", "")
    return {
        "authorization": authorization,
        "timestamp": headers.get("x-timestamp") or query.get("timestamp", ""),
        "nonce": headers.get("x-nonce") or query.get("nonce", ""),
    }


def _authenticate(scope):
    credentials = _handshake_credentials(scope)
    if not credentials["authorization"].startswith("Kiosk "):
        return None
    kiosk_id, _, signature = credentials["authorization"][len("Kiosk ") :].partition(":")
    return services.authenticate(
        kiosk_id=kiosk_id,
        signature=signature,
        timestamp=credentials["timestamp"],
        nonce=credentials["nonce"],
        method="GET",
        path=scope["path"],
        body=b"",
    )


class KioskConsumer(EventConsumer):
    async def connect(self):
        try:
            kiosk = await database_sync_to_async(_authenticate)(self.scope)
        except DomainError as exc:
            await self.refuse(CLOSE_FORBIDDEN if exc.code == "kiosk_disabled" else CLOSE_UNAUTHORISED)
            return
        if kiosk is None:
            await self.refuse(CLOSE_UNAUTHORISED)
            return
        self.scope["kiosk_id"] = kiosk.pk
        await self.join(kiosk_group(kiosk.pk))
        await self.accept()
