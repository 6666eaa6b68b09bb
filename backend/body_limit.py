"""Request bodies are bounded before Django reads them, on the declared length and on the bytes sent.

Django's ASGI handler spools the whole body (to a temporary file past 2.5 MB) before any view or
middleware runs, so a limit checked there comes after the disk is already written. This wrapper sits in
front: a declared Content-Length over the limit is answered 413 without reading a byte, and a body
streamed without one is cut off at the first chunk that crosses the limit.
"""

import json

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

TOO_LARGE = _("The request body is too large.")
BAD_LENGTH = _("Content-Length is not a number.")


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def _language(scope) -> str:
    accept = (_header(scope, b"accept-language") or b"").decode("latin-1")
    for code, _quality in translation.trans_real.parse_accept_lang_header(accept):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


async def _refuse(scope, send, status: int, code: str, lazy_message) -> None:
    with translation.override(_language(scope)):
        message = str(lazy_message)
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app, max_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.max_bytes if self.max_bytes is not None else settings.API_MAX_BODY_BYTES
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                return await _refuse(scope, send, 400, "malformed_request", BAD_LENGTH)
            if length > limit:
                return await _refuse(scope, send, 413, "payload_too_large", TOO_LARGE)

        received = 0
        refused = False

        async def bounded_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await _refuse(scope, send, 413, "payload_too_large", TOO_LARGE)
                    # Django stops reading at a disconnect and answers nothing itself.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        return await self.app(scope, bounded_receive, guarded_send)
