"""The resident code: shown in the app, scanned by kiosks and inspectors, valid for two minutes."""

import secrets

from django.utils import timezone

from backend.codes.signing import RESIDENT, InvalidCode, expires_at, sign, verify

from .models import Role, User


def issue_resident_code(user: User):
    """A fresh code each call; the nonce makes every code distinct so a screenshot ages out fast."""
    issued_at = timezone.now()
    code = sign(RESIDENT, {"u": user.public_id.hex, "n": secrets.token_hex(3)})
    return code, expires_at(RESIDENT, issued_at)


def resident_from_code(code) -> User:
    payload = verify(RESIDENT, code)
    try:
        return User.objects.get(public_id=payload["u"], role=Role.RESIDENT, is_active=True)
    except (User.DoesNotExist, KeyError, ValueError) as exc:
        raise InvalidCode() from exc
