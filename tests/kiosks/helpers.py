import json
import secrets
import time
import uuid

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import issue_resident_code
from kiosks.credentials import derive_secret, sign
from kiosks.models import Kiosk
from rewards.models import Material


def make_kiosk(community, materials=("paper", "plastic", "metal"), **fields) -> Kiosk:
    kiosk = Kiosk.objects.create(community=community, name=fields.pop("name", "回收机"), **fields)
    kiosk.materials.set(Material.objects.filter(code__in=materials))
    return kiosk


def secret_of(kiosk: Kiosk, version: int | None = None) -> str:
    return derive_secret(kiosk.pk, version or kiosk.secret_version)


def signed(
    method,
    path,
    body=None,
    *,
    kiosk,
    secret=None,
    timestamp=None,
    nonce=None,
    client=None,
    sign_body=None,
    kiosk_id=None,
):
    """A request signed the way kiosk firmware signs it; every part can be spoiled for a test."""
    raw = b"" if body is None else json.dumps(body).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(12)
    signature = sign(
        secret or secret_of(kiosk), method, path, timestamp, nonce, raw if sign_body is None else sign_body
    )
    client = client or APIClient()
    return client.generic(
        method,
        path,
        raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Kiosk {kiosk_id or kiosk.pk}:{signature}",
        HTTP_X_TIMESTAMP=timestamp,
        HTTP_X_NONCE=nonce,
    )


def deposit_body(**fields):
    body = {
        "deposit_id": str(uuid.uuid4()),
        "material": "paper",
        "weight_g": 2500,
        "occurred_at": timezone.now().isoformat(),
    }
    body.update(fields)
    return body


def dated_deposit(resident, occurred_at, **fields):
    """A deposit as an offline kiosk keeps it: dated when it happened, by a code issued just then."""
    code = issue_resident_code(resident, issued_at=occurred_at)[0]
    return deposit_body(resident_code=code, occurred_at=occurred_at.isoformat(), **fields)
