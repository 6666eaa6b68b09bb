"""Kiosk request signing as a DRF authentication class (see API.md, Kiosks)."""

import time

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from kiosks import services
from kiosks.errors import BadSignature
from kiosks.models import Kiosk


class KioskPrincipal:
    """What `request.user` is for a kiosk request; the kiosk itself is `request.auth`."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    role = "kiosk"

    def __init__(self, kiosk: Kiosk):
        self.kiosk = kiosk
        self.pk = None


def _with_server_time(exc: BadSignature) -> BadSignature:
    # Firmware corrects a drifting clock from this instead of failing forever.
    exc.extra = {**exc.extra, "server_time": int(time.time())}
    return exc


class KioskSignatureAuthentication(BaseAuthentication):
    keyword = "Kiosk"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(f"{self.keyword} "):
            return None
        credentials = header[len(self.keyword) + 1 :].strip()
        kiosk_id, _, signature = credentials.partition(":")
        try:
            kiosk = services.authenticate(
                kiosk_id=kiosk_id,
                signature=signature,
                timestamp=request.META.get("HTTP_X_TIMESTAMP", ""),
                nonce=request.META.get("HTTP_X_NONCE", ""),
                method=request.method,
                path=request.get_full_path(),
                body=request.body,
            )
        except BadSignature as exc:
            raise _with_server_time(exc) from None
        return KioskPrincipal(kiosk), kiosk

    def authenticate_header(self, request):
        return self.keyword


class IsKiosk(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Kiosk)


class KioskSignatureScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes kiosk signing."""

    target_class = KioskSignatureAuthentication
    name = "KioskSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Kiosk <kiosk_id>:<hex hmac_sha256(secret, METHOD\\npath-with-query\\nX-Timestamp\\nX-Nonce\\n"
                "hex(sha256(body)))>` with the X-Timestamp and X-Nonce headers."
            ),
        }
