"""The resident code: shown in the app, scanned by kiosks and inspectors, valid for two minutes."""

import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone

from backend.codes.signing import RESIDENT, InvalidCode, expires_at, sign, verify

from .models import Role, User


def issue_resident_code(user: User):
    """A fresh code each call; the nonce makes every code distinct so a screenshot ages out fast."""
    # Signatures carry whole seconds, so the code dies up to a second before now + max_age: promise no more.
    issued_at = timezone.now().replace(microsecond=0)
    code = sign(RESIDENT, {"u": user.public_id.hex, "n": secrets.token_hex(3)})
    return code, expires_at(RESIDENT, issued_at)


def resident_from_code(code) -> User:
    payload = verify(RESIDENT, code)
    try:
        return User.objects.get(public_id=payload["u"], role=Role.RESIDENT, is_active=True)
    except (User.DoesNotExist, KeyError, ValueError, TypeError, ValidationError) as exc:
        raise InvalidCode() from exc
