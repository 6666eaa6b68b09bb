"""Signed QR payloads of each kind through `django.core.signing`.

Each kind has its own key list (`settings.CODE_KEYS[kind]`, newest first) and its own salt, so a code
of one kind never verifies as another, keys rotate without voiding what was printed, and rotating
SECRET_KEY leaves the city's bin labels alone. Codes carry ids only, never personal data.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError


class InvalidCode(DomainError):
    code = "invalid_code"
    message = _("This code is not valid here.")


class ExpiredCode(DomainError):
    code = "code_expired"
    message = _("This code has expired.")


class CodeUsed(DomainError):
    """A single-use code (a kiosk session's, a voucher's) spent before."""

    code = "code_used"
    message = _("This code has already been used.")


@dataclass(frozen=True)
class CodeKind:
    name: str
    max_age: timedelta | None  # None: the code never expires (printed labels)


BIN = CodeKind("bin", None)
KIOSK_SESSION = CodeKind("kiosk_session", timedelta(minutes=2))
RESIDENT = CodeKind("resident", timedelta(minutes=2))
VOUCHER = CodeKind("voucher", None)
KINDS = {kind.name: kind for kind in (BIN, KIOSK_SESSION, RESIDENT, VOUCHER)}

# Longest code any kind produces is far below this; anything longer is refused before any work.
MAX_CODE_LENGTH = 400


def _salt(kind: CodeKind) -> str:
    return f"greenloop.codes.{kind.name}"


def _keys(kind: CodeKind) -> list[str]:
    return settings.CODE_KEYS[kind.name]


def _signer(kind: CodeKind) -> signing.Signer:
    keys = _keys(kind)
    # Codes that never expire carry no timestamp, so a label printed twice carries the same code.
    signer_class = signing.TimestampSigner if kind.max_age else signing.Signer
    return signer_class(key=keys[0], fallback_keys=keys[1:], salt=_salt(kind))


def sign(kind: CodeKind, payload: dict) -> str:
    return _signer(kind).sign_object({"k": kind.name, **payload}, compress=True)


def verify(kind: CodeKind, code) -> dict:
    """The payload of a genuine, unexpired code of this kind; InvalidCode or ExpiredCode otherwise."""
    if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH or not code.isascii():
        raise InvalidCode()
    signer = _signer(kind)
    try:
        if kind.max_age:
            payload = signer.unsign_object(code, max_age=kind.max_age)
        else:
            payload = signer.unsign_object(code)
    except signing.SignatureExpired as exc:
        raise ExpiredCode() from exc
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCode() from exc
    if not isinstance(payload, dict) or payload.pop("k", None) != kind.name:
        raise InvalidCode()
    return payload


def expires_at(kind: CodeKind, issued_at):
    return issued_at + kind.max_age if kind.max_age else None
