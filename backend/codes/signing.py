"""Signed QR payloads of each kind through `django.core.signing`.

Each kind has its own key list (`settings.CODE_KEYS[kind]`, newest first) and its own salt, so a code
of one kind never verifies as another, keys rotate without voiding what was printed, and rotating
SECRET_KEY leaves the city's bin labels alone. Codes carry ids only, never personal data.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


class _DatedSigner(signing.TimestampSigner):
    """A timestamp signer whose stamp is a given instant: a code as it was issued at that moment."""

    def __init__(self, *args, at: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self._at = at

    def timestamp(self):
        return signing.b62_encode(int(self._at.timestamp()))


def _signer(kind: CodeKind, at: datetime | None = None) -> signing.Signer:
    keys = _keys(kind)
    # Codes that never expire carry no timestamp, so a label printed twice carries the same code.
    if not kind.max_age:
        return signing.Signer(key=keys[0], fallback_keys=keys[1:], salt=_salt(kind))
    if at is not None:
        return _DatedSigner(key=keys[0], fallback_keys=keys[1:], salt=_salt(kind), at=at)
    return signing.TimestampSigner(key=keys[0], fallback_keys=keys[1:], salt=_salt(kind))


def sign(kind: CodeKind, payload: dict, *, issued_at: datetime | None = None) -> str:
    """A code of this kind; `issued_at` dates it (a kiosk simulator replaying a day), else now."""
    return _signer(kind, issued_at).sign_object({"k": kind.name, **payload}, compress=True)


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


def verify_issued(kind: CodeKind, code) -> tuple[dict, datetime]:
    """The payload of a genuine code of an expiring kind and when it was issued, however old it is.

    For a kiosk's offline upload: whether the code was fresh is judged against when the deposit
    happened, not against now, so the caller checks the age itself.
    """
    if not kind.max_age:
        raise ValueError(f"{kind.name} codes carry no issue time")
    if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH or not code.isascii():
        raise InvalidCode()
    signer = _signer(kind)
    try:
        payload = signer.unsign_object(code)
        # The stamp sits between the value and the signature, both checked by unsign_object above.
        issued = datetime.fromtimestamp(signing.b62_decode(code.rsplit(signer.sep, 2)[-2]), tz=UTC)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError, OverflowError, OSError) as exc:
        raise InvalidCode() from exc
    if not isinstance(payload, dict) or payload.pop("k", None) != kind.name:
        raise InvalidCode()
    return payload, issued


def expires_at(kind: CodeKind, issued_at):
    return issued_at + kind.max_age if kind.max_age else None
