"""One deposit as one call of `kiosks_record_deposit` (migrations 0008 and 0010), prepared in Python
without the database and interpreted afterwards, so the Django view, offline batches and the async
deposit edge share every rule.

`prepare` makes the checks that need no database, in the order the answer names them (the deposit's
time, its material, its weight, the resident code), and keeps the first refusal for the function,
which raises it only after the retry check. It reads the per-process caches of kiosks, rules and
materials and nothing else, so under an event loop a cold cache shows up as SynchronousOnlyOperation
before any query is sent.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from backend.codes.signing import RESIDENT, ExpiredCode, InvalidCode, verify_issued
from backend.errors import DomainError
from backend.idempotency import IdempotencyConflict, fingerprint
from rewards.errors import LedgerUnavailable
from rewards.models import Material
from rewards.selectors import cached_carbon_terms, cached_materials, deposit_award, price_of, rules_in_force
from rewards.services import memo_columns

from .errors import (
    BackdatedOverBound,
    BeforeCodeIssued,
    BeforeSessionOpened,
    FutureDeposit,
    ImplausibleWeight,
    MaterialNotAccepted,
    MaterialNotPriced,
    NonceReused,
    NoResident,
    SessionClosed,
    SessionNotFound,
    StaleDeposit,
    UnknownMaterial,
)
from .limits import FUTURE_TOLERANCE, OFFLINE_WINDOW
from .models import Kiosk

# A claimed session accepts deposits made within this time after the claim.
SESSION_USE_WINDOW = timedelta(minutes=30)
REFUSAL_PREFIX = "kiosk_deposit:"

SQL = """
SELECT created, response, resident_id, household_id, points, balance, transaction_id
FROM kiosks_record_deposit(
    %(nonce)s::text, %(kiosk)s::bigint, %(deposit)s::uuid, %(fingerprint)s::text, %(refusal)s::text,
    %(session)s::uuid, %(resident_public)s::uuid, %(tolerance)s::interval, %(session_window)s::interval,
    %(community)s::bigint, %(material)s::bigint, %(weight)s::bigint, %(count)s::bigint,
    %(occurred_at)s::timestamptz, %(received_at)s::timestamptz, %(merge_window)s::interval,
    %(award_numerator)s::bigint, %(award_denominator)s::bigint, %(day)s::date,
    %(kiosk_cap)s::bigint, %(resident_cap)s::bigint, %(household_cap)s::bigint, %(backdated_bound)s::bigint,
    %(cause)s::text, %(memo)s::text, %(memo_key)s::text, %(memo_params)s::jsonb
)
"""

# What the function raises, as the error the client is answered with.
_RAISED = {
    "nonce_reused": NonceReused,
    "idempotency_conflict": IdempotencyConflict,
    "session_not_found": SessionNotFound,
    "before_session_opened": BeforeSessionOpened,
    "session_closed": SessionClosed,
    "invalid_code": InvalidCode,
}


@dataclass(frozen=True)
class DepositCall:
    params: dict
    refusal: DomainError | None
    occurred_at: datetime
    backdated: bool


@dataclass(frozen=True)
class Recorded:
    created: bool  # False: a retry, answered with the stored first answer
    body: dict
    resident_id: int | None
    household_id: int | None
    points: int
    transaction_id: int | None


def deposit_fingerprint(payload: dict) -> str:
    # Values are normalised to strings first, so the digest of a stored deposit never changes.
    canonical = {
        "deposit_id": str(payload["deposit_id"]),
        "session_id": str(payload["session_id"]) if payload.get("session_id") else None,
        "resident_code": payload.get("resident_code") or None,
        "material": payload["material"],
        "weight_g": payload["weight_g"],
        "count": payload.get("count"),
        "occurred_at": payload["occurred_at"].isoformat(),
    }
    return fingerprint(canonical)


def _clock_tolerance() -> timedelta:
    return timedelta(seconds=settings.DEPOSIT_CLOCK_TOLERANCE_SECONDS)


def city_material(code: str, city_id: int) -> Material | None:
    """The active material of this code in the city's catalog (shared or its own), else None."""
    material = cached_materials().get(code)
    if material is None or material.city_id not in (None, city_id):
        return None
    return material


def _accepted_material(kiosk: Kiosk, code: str, *, city_id: int, rules) -> Material:
    material = city_material(code, city_id)
    if material is None:
        raise UnknownMaterial()
    if material.pk not in kiosk.material_ids:
        raise MaterialNotAccepted()
    if price_of(rules, material) is None:
        raise MaterialNotPriced(extra={"rules_version": rules.version})
    return material


def _checked_time(occurred_at: datetime, now: datetime) -> None:
    if occurred_at < now - OFFLINE_WINDOW:
        raise StaleDeposit()
    if occurred_at > now + FUTURE_TOLERANCE:
        raise FutureDeposit()


def _checked_material(kiosk: Kiosk, payload: dict, rules) -> Material:
    material = _accepted_material(
        kiosk, payload["material"], city_id=kiosk.community.district.city_id, rules=rules
    )
    if not material.min_weight_g <= payload["weight_g"] <= material.max_weight_g:
        raise ImplausibleWeight(
            extra={"min_weight_g": material.min_weight_g, "max_weight_g": material.max_weight_g}
        )
    return material


def _coded_resident(code: str, occurred_at: datetime) -> uuid.UUID:
    """The public id a resident code names, once the deposit's time is inside the code's two minutes
    from issue (judged against `occurred_at`: an offline upload arrives days later), with the clock
    tolerance on either side. Whether that resident exists and is active, the function checks."""
    payload, issued_at = verify_issued(RESIDENT, code)
    if occurred_at < issued_at - _clock_tolerance():
        raise BeforeCodeIssued()
    if occurred_at > issued_at + RESIDENT.max_age + _clock_tolerance():
        raise ExpiredCode()
    try:
        return uuid.UUID(str(payload["u"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidCode() from exc


def _award_terms(rules, material: Material) -> tuple[int, int]:
    """Points for g grams are g * numerator // denominator: deposit_award's two rules as one formula."""
    if rules.carbon_points_enabled:
        per_kg = max(0, cached_carbon_terms(rules.city_id).grams_per_kg.get(material.code, 0))
        return per_kg * rules.points_per_kg_co2e, 1_000_000
    return price_of(rules, material) or 0, 1000


def prepare(
    *, kiosk: Kiosk, payload: dict, nonce: str | None, backdated_bound: int, now: datetime
) -> DepositCall:
    """The call recording this deposit. `nonce`: spent by the call itself (None: the caller spent it).
    `backdated_bound`: the back-dated points this deposit may still take in its upload."""
    occurred_at = payload["occurred_at"]
    params = dict.fromkeys(
        ("session", "resident_public", "material", "award_numerator", "award_denominator", "memo_params"),
        None,
    ) | {
        "nonce": nonce,
        "kiosk": kiosk.pk,
        "deposit": payload["deposit_id"],
        "fingerprint": deposit_fingerprint(payload),
        "refusal": None,
        "tolerance": _clock_tolerance(),
        "session_window": SESSION_USE_WINDOW,
        "community": kiosk.community_id,
        "weight": payload["weight_g"],
        "count": payload.get("count"),
        "occurred_at": occurred_at,
        "received_at": now,
        "merge_window": timedelta(minutes=settings.DEPOSIT_MERGE_WINDOW_MINUTES),
        "day": timezone.localtime(occurred_at).date(),
        "cause": f"deposit:{kiosk.pk}:{payload['deposit_id']}",
        "memo": "",
        "memo_key": "",
    }
    backdated = timezone.localtime(occurred_at).date() < timezone.localtime(now).date()
    params["backdated_bound"] = backdated_bound if backdated else None
    params |= dict.fromkeys(("kiosk_cap", "resident_cap", "household_cap"), None)
    try:
        _checked_time(occurred_at, now)
        # The rules in force when the deposit happened, however late it arrives: its price, caps and memo.
        rules = rules_in_force(kiosk.community.district.city_id, at=occurred_at)
        material = _checked_material(kiosk, payload, rules)
        if payload.get("session_id"):
            params["session"] = payload["session_id"]
        elif payload.get("resident_code"):
            params["resident_public"] = _coded_resident(payload["resident_code"], occurred_at)
        else:
            raise NoResident()
    except DomainError as refusal:
        return DepositCall({**params, "refusal": refusal.code}, refusal, occurred_at, backdated)
    params["material"] = material.pk
    params |= {
        "kiosk_cap": rules.kiosk_daily_points_cap,
        "resident_cap": rules.resident_daily_deposit_points_cap,
        "household_cap": rules.household_daily_points_cap,
    }
    params["award_numerator"], params["award_denominator"] = _award_terms(rules, material)
    own = deposit_award(rules=rules, material=material, weight_g=payload["weight_g"])
    params |= memo_columns(own.memo, {**own.memo_params, "rules_version": rules.version})
    return DepositCall(params, None, occurred_at, backdated)


def recorded(row) -> Recorded:
    created, response, resident_id, household_id, points, _balance, transaction_id = row
    # Django's connections hand jsonb over as text, a plain psycopg connection as the parsed value.
    body = json.loads(response) if isinstance(response, str) else response
    return Recorded(created, body, resident_id, household_id, points or 0, transaction_id)


def refusal_of(call: DepositCall, error: BaseException) -> DomainError | Exception | None:
    """The error a refusal the function raised stands for; None for any other database error."""
    message = getattr(getattr(error, "diag", None), "message_primary", None) or ""
    if not message.startswith(REFUSAL_PREFIX):
        return None
    code = message[len(REFUSAL_PREFIX) :]
    if call.refusal is not None and code == call.refusal.code:
        return call.refusal
    if code == "backdated_over_bound":
        return BackdatedOverBound(extra={"backdated_points_per_upload": settings.BACKDATED_POINTS_PER_UPLOAD})
    if code == "ledger_unavailable":
        return LedgerUnavailable()
    return _RAISED[code]()
