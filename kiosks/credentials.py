"""Kiosk secrets and request signatures.

A kiosk's secret is hex(hmac_sha256(KIOSK_MASTER_KEY, "<kiosk id>:<secret version>")): derived, never
stored, so a database dump alone cannot sign as a kiosk. The string a kiosk signs is
METHOD \\n path-with-query \\n X-Timestamp \\n X-Nonce \\n hex(sha256(body)).
"""

import hashlib
import hmac

from django.conf import settings


def derive_secret(kiosk_id: int, version: int) -> str:
    message = f"{kiosk_id}:{version}".encode()
    return hmac.new(settings.KIOSK_MASTER_KEY.encode(), message, hashlib.sha256).hexdigest()


def string_to_sign(method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join(
        [method.upper(), path_with_query, timestamp, nonce, hashlib.sha256(body).hexdigest()]
    ).encode()


def sign(secret: str, method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path_with_query, timestamp, nonce, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, signature: str, **signed) -> bool:
    return hmac.compare_digest(sign(secret, **signed).encode(), signature.encode())
