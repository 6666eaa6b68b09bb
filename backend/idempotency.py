"""Retry-safe writes: a request retried with the same key and body gets the first answer back.

Kiosk deposits carry their key in the body (`deposit_id`), resident writes in an `Idempotency-Key`
header; both store a fingerprint of the request beside the first answer, and both compare a retry
the same way, here.
"""

import hashlib
import json

from django.utils.translation import gettext_lazy as _

from .errors import DomainError

# Keys are stored in a column of this width; a longer one is refused rather than cut.
MAX_KEY_LENGTH = 100


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    message = _("This idempotency key was already used with a different request.")


def fingerprint(payload: dict) -> str:
    """A stable digest of a request's meaning: key order and value types do not change it."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def first_answer(*, stored_fingerprint: str, response, expected_fingerprint: str):
    """The stored answer for a genuine retry; a different request under the same key is a conflict."""
    if stored_fingerprint != expected_fingerprint:
        raise IdempotencyConflict()
    return response
