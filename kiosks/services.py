"""Write use cases of kiosks: provisioning, request authentication, sessions, deposits, heartbeats.

A deposit is exactly-once per (kiosk, deposit_id): its row is inserted with ON CONFLICT DO NOTHING in
the same transaction as the ledger credit, so a retry (or a concurrent duplicate, which waits on the
first one's unique key) finds the stored first answer. Lock order inside a deposit: the resident's
user row (their bags), the deposit row, the kiosk's and the resident's day totals, the household's day
total (rewards.caps), then the resident's points account (balance).
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import OutOfScope
from accounts.models import User
from accounts.selectors import can_manage_district, resident_from_dated_code
from backend.codes.signing import KIOSK_SESSION, RESIDENT, CodeUsed, ExpiredCode, InvalidCode, sign, verify
from backend.errors import DomainError, NotFound
from backend.idempotency import fingerprint, first_answer
from backend.observability.metrics import DEPOSITS, count_after_commit
from backend.realtime.groups import city_stats_group, district_stats_group, kiosk_group
from backend.realtime.publish import publish
from rewards.models import Material
from rewards.selectors import (
    balance_of,
    cached_materials,
    deposit_award,
    materials_of_city,
    price_of,
    rules_in_force,
)
from rewards.services import credit

from . import kiosk_cache
from .credentials import derive_secret, signature_matches
from .errors import (
    BackdatedOverBound,
    BadNonce,
    BadPickupWeight,
    BadSignature,
    BatchTooLarge,
    BeforeCodeIssued,
    BeforeSessionOpened,
    ClockSkew,
    DepositFailed,
    FutureDeposit,
    FuturePickup,
    ImplausibleWeight,
    KioskDisabled,
    MaterialNotAccepted,
    MaterialNotPriced,
    NonceReused,
    NoResident,
    PickupOutOfOrder,
    SessionClosed,
    SessionNotFound,
    StaleDeposit,
    UnknownMaterial,
)
from .limits import BATCH_LIMIT, FUTURE_TOLERANCE, NONCE_LENGTH, OFFLINE_WINDOW, SIGNATURE_WINDOW
from .models import Deposit, Kiosk, KioskAlert, KioskNonce, KioskSession, Pickup, PickupLine

logger = logging.getLogger(__name__)

ROTATION_GRACE = timedelta(days=7)
# A claimed session accepts deposits made within this time after the claim.
SESSION_USE_WINDOW = timedelta(minutes=30)
SILENCE_LIMIT = timedelta(minutes=10)
FILL_ALERT_PERCENT = 90


# ---- provisioning ------------------------------------------------------------------------------


def _materials(codes: list[str], city_id: int) -> list[Material]:
    """Active materials of the city's catalog: a kiosk never takes another city's material."""
    materials = list(materials_of_city(city_id).filter(code__in=set(codes), active=True))
    missing = sorted(set(codes) - {m.code for m in materials})
    if missing:
        raise UnknownMaterial(fields={"materials": [_("Unknown: %(codes)s") % {"codes": ", ".join(missing)}]})
    return materials


@transaction.atomic
def provision_kiosk(*, actor, community, name: str, material_codes: list[str]) -> tuple[Kiosk, str]:
    if not can_manage_district(actor, community.district):
        raise OutOfScope()
    kiosk = Kiosk.objects.create(community=community, name=name.strip())
    kiosk.materials.set(_materials(material_codes, community.district.city_id))
    return kiosk, derive_secret(kiosk.pk, kiosk.secret_version)


def _managed(actor, kiosk: Kiosk) -> None:
    if not can_manage_district(actor, kiosk.community.district):
        raise NotFound()


@transaction.atomic
def rotate_secret(*, actor, kiosk: Kiosk, grace: timedelta = ROTATION_GRACE) -> str:
    _managed(actor, kiosk)
    kiosk = Kiosk.objects.select_for_update().get(pk=kiosk.pk)
    kiosk.secret_version += 1
    kiosk.previous_secret_valid_until = timezone.now() + grace
    kiosk.save(update_fields=["secret_version", "previous_secret_valid_until"])
    _forget_cached(kiosk.pk)
    return derive_secret(kiosk.pk, kiosk.secret_version)


@transaction.atomic
def update_kiosk(
    *, actor, kiosk: Kiosk, enabled: bool | None = None, material_codes: list[str] | None = None
) -> Kiosk:
    """Switch a kiosk on or off and change what it accepts, all or nothing."""
    _managed(actor, kiosk)
    if enabled is not None:
        Kiosk.objects.filter(pk=kiosk.pk).update(enabled=enabled)
        kiosk.enabled = enabled
    if material_codes is not None:
        kiosk.materials.set(_materials(material_codes, kiosk.community.district.city_id))
    _forget_cached(kiosk.pk)
    return kiosk


def _forget_cached(kiosk_pk: int) -> None:
    # Now for this process, and again after commit in case a request re-read the old row meanwhile.
    kiosk_cache.forget(kiosk_pk)
    transaction.on_commit(lambda: kiosk_cache.forget(kiosk_pk))


# ---- request authentication ---------------------------------------------------------------------


def authenticate(
    *, kiosk_id: str, signature: str, timestamp: str, nonce: str, method: str, path: str, body: bytes
) -> Kiosk:
    """The kiosk that signed this request, or BadSignature / KioskDisabled. Spends the nonce."""
    now = timezone.now()
    try:
        sent_at = int(timestamp)
        kiosk_pk = int(kiosk_id)
    except (TypeError, ValueError) as exc:
        raise BadSignature() from exc
    if abs(now.timestamp() - sent_at) > SIGNATURE_WINDOW.total_seconds():
        raise ClockSkew()
    if not nonce or len(nonce) not in NONCE_LENGTH or not nonce.isascii() or not nonce.isprintable():
        raise BadNonce()
    if not signature or len(signature) != 64:
        raise BadSignature()
    kiosk = kiosk_cache.get(kiosk_pk)
    if kiosk is None:
        raise BadSignature()
    signed = {"method": method, "path_with_query": path, "timestamp": timestamp, "nonce": nonce, "body": body}
    if not _signed_by(kiosk, signature, signed, now):
        # The cached row may predate a rotation made in another process.
        kiosk = kiosk_cache.get(kiosk_pk, fresh=True)
        if kiosk is None or not _signed_by(kiosk, signature, signed, now):
            raise BadSignature()
    if not kiosk.enabled:
        raise KioskDisabled()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO kiosks_kiosknonce (kiosk_id, nonce, seen_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (kiosk_id, nonce) DO NOTHING RETURNING id",
            [kiosk.pk, nonce, now],
        )
        if cursor.fetchone() is None:
            raise NonceReused()
    return kiosk


def _signed_by(kiosk: Kiosk, signature: str, signed: dict, now: datetime) -> bool:
    versions = [kiosk.secret_version]
    if kiosk.previous_secret_valid_until and kiosk.previous_secret_valid_until > now:
        versions.append(kiosk.secret_version - 1)
    return any(signature_matches(derive_secret(kiosk.pk, v), signature, **signed) for v in versions)


def purge_nonces(*, now: datetime | None = None) -> int:
    # Twice the window: a nonce older than that can no longer pass the timestamp check anyway.
    cutoff = (now or timezone.now()) - 2 * SIGNATURE_WINDOW
    deleted, _ = KioskNonce.objects.filter(seen_at__lt=cutoff).delete()
    return deleted


# ---- sessions ----------------------------------------------------------------------------------


def open_session(*, kiosk: Kiosk) -> tuple[KioskSession, str]:
    now = timezone.now()
    session = KioskSession.objects.create(kiosk=kiosk, expires_at=now + KIOSK_SESSION.max_age)
    return session, sign(KIOSK_SESSION, {"s": session.pk.hex})


def claim_session(*, resident, code: str) -> KioskSession:
    """A resident claims the session the kiosk shows: once, and only while it is fresh."""
    try:
        payload = verify(KIOSK_SESSION, code)
        session_pk = payload["s"]
    except ExpiredCode:
        raise
    except (KeyError, TypeError) as exc:
        raise InvalidCode() from exc
    with transaction.atomic():
        session = KioskSession.objects.select_related("kiosk").filter(pk=session_pk).first()
        if session is None:
            raise InvalidCode()
        now = timezone.now()
        claimed = KioskSession.objects.filter(
            pk=session.pk, status=KioskSession.Status.OPEN, expires_at__gt=now
        ).update(status=KioskSession.Status.CLAIMED, resident=resident, claimed_at=now)
        if not claimed:
            session.refresh_from_db()
            if session.status == KioskSession.Status.OPEN:
                raise ExpiredCode()
            raise CodeUsed()
        session.refresh_from_db()
        publish(
            kiosk_group(session.kiosk_id),
            "session.claimed",
            {"session_id": str(session.pk), "resident_display_name": resident.shown_name},
        )
    return session


def kiosk_session(*, kiosk: Kiosk, session_id) -> KioskSession:
    session = KioskSession.objects.select_related("resident").filter(pk=session_id, kiosk=kiosk).first()
    if session is None:
        raise SessionNotFound()
    if session.status == KioskSession.Status.OPEN and session.expires_at <= timezone.now():
        # An unclaimed session that timed out is closed; closing it lazily keeps polling cheap.
        KioskSession.objects.filter(pk=session.pk, status=KioskSession.Status.OPEN).update(
            status=KioskSession.Status.CLOSED, closed_at=session.expires_at
        )
        session.refresh_from_db()
    return session


def close_session(*, kiosk: Kiosk, session_id) -> KioskSession:
    session = kiosk_session(kiosk=kiosk, session_id=session_id)
    KioskSession.objects.filter(pk=session.pk).exclude(status=KioskSession.Status.CLOSED).update(
        status=KioskSession.Status.CLOSED, closed_at=timezone.now()
    )
    session.refresh_from_db()
    return session


# ---- deposits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepositOutcome:
    created: bool  # False: a retry, answered with the stored first answer
    body: dict


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


def _replay(existing_fingerprint: str, response: dict, expected: str) -> DepositOutcome:
    body = first_answer(
        stored_fingerprint=existing_fingerprint, response=response, expected_fingerprint=expected
    )
    return DepositOutcome(created=False, body=body)


def _stored_answer(kiosk: Kiosk, deposit_id) -> tuple[str, dict] | None:
    """The fingerprint and first answer of a deposit this kiosk already recorded under `deposit_id`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT fingerprint, response FROM kiosks_deposit WHERE kiosk_id = %s AND deposit_id = %s",
            [kiosk.pk, deposit_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    fingerprint_value, response = row
    return fingerprint_value, json.loads(response) if isinstance(response, str) else response


def _session_of(kiosk: Kiosk, session_id) -> KioskSession | None:
    """The kiosk's session with the fields a deposit checks, and its resident's row locked (the
    deposit's first lock) in the same round trip. The resident carries only their id and household,
    all a deposit needs of them: every later read of the resident goes by id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, s.created_at, s.claimed_at, s.closed_at, u.id, u.household_id "
            "FROM kiosks_kiosksession s JOIN accounts_user u ON u.id = s.resident_id "
            "WHERE s.id = %s AND s.kiosk_id = %s FOR NO KEY UPDATE OF u",
            [session_id, kiosk.pk],
        )
        row = cursor.fetchone()
        if row is None:
            # No such session, or one nobody claimed yet: which, the answer tells.
            cursor.execute(
                "SELECT id, created_at FROM kiosks_kiosksession WHERE id = %s AND kiosk_id = %s",
                [session_id, kiosk.pk],
            )
            unclaimed = cursor.fetchone()
            if unclaimed is None:
                return None
            return KioskSession(pk=unclaimed[0], kiosk=kiosk, created_at=unclaimed[1], resident=None)
    session_pk, created_at, claimed_at, closed_at, resident_id, household_id = row
    session = KioskSession(
        pk=session_pk, kiosk=kiosk, created_at=created_at, claimed_at=claimed_at, closed_at=closed_at
    )
    session.resident = User(pk=resident_id, household_id=household_id)
    return session


def _clock_tolerance() -> timedelta:
    return timedelta(seconds=settings.DEPOSIT_CLOCK_TOLERANCE_SECONDS)


def _resident_for(kiosk: Kiosk, payload: dict, occurred_at: datetime) -> tuple[object, KioskSession | None]:
    """The resident a deposit credits, once its time is inside what names them.

    A session names its resident from its opening (less the kiosk's clock tolerance) to its close,
    which the server itself stamps, so no tolerance past it. A resident code is fresh for its two
    minutes from issue, judged against `occurred_at` (an offline upload arrives days later), with the
    clock tolerance on either side.
    """
    if payload.get("session_id"):
        session = _session_of(kiosk, payload["session_id"])
        if session is None:
            raise SessionNotFound()
        if occurred_at < session.created_at - _clock_tolerance():
            raise BeforeSessionOpened()
        usable_until = (session.claimed_at or occurred_at) + SESSION_USE_WINDOW
        if session.closed_at:
            usable_until = min(usable_until, session.closed_at)
        if session.resident is None or occurred_at > usable_until:
            raise SessionClosed()
        return session.resident, session
    if payload.get("resident_code"):
        resident, issued_at = resident_from_dated_code(payload["resident_code"])
        if occurred_at < issued_at - _clock_tolerance():
            raise BeforeCodeIssued()
        if occurred_at > issued_at + RESIDENT.max_age + _clock_tolerance():
            raise ExpiredCode()
        return resident, None
    raise NoResident()


def _city_material(code: str, city_id: int) -> Material | None:
    """The active material of this code in the city's catalog (shared or its own), else None."""
    material = cached_materials().get(code)
    if material is None or material.city_id not in (None, city_id):
        return None
    return material


def _accepted_material(kiosk: Kiosk, code: str, *, city_id: int, rules) -> Material:
    material = _city_material(code, city_id)
    if material is None:
        raise UnknownMaterial()
    if material.pk not in kiosk.material_ids:
        raise MaterialNotAccepted()
    if price_of(rules, material) is None:
        raise MaterialNotPriced(extra={"rules_version": rules.version})
    return material


class UploadBudget:
    """What one upload (a single deposit or a whole batch) has credited each household for deposits
    dated before the upload's own day, against BACKDATED_POINTS_PER_UPLOAD."""

    def __init__(self, now: datetime | None = None):
        self.day = timezone.localtime(now or timezone.now()).date()
        self.bound = settings.BACKDATED_POINTS_PER_UPLOAD
        self.spent: dict[tuple[str, int], int] = {}

    @staticmethod
    def key(resident) -> tuple[str, int]:
        # A resident without a household is their own household here.
        if resident.household_id:
            return ("household", resident.household_id)
        return ("resident", resident.pk)

    def backdated(self, occurred_at: datetime) -> bool:
        return timezone.localtime(occurred_at).date() < self.day

    def check(self, resident, occurred_at: datetime, points: int) -> None:
        if points and self.backdated(occurred_at):
            if self.spent.get(self.key(resident), 0) + points > self.bound:
                raise BackdatedOverBound(extra={"backdated_points_per_upload": self.bound})

    def spend(self, resident, occurred_at: datetime, points: int) -> None:
        if points and self.backdated(occurred_at):
            key = self.key(resident)
            self.spent[key] = self.spent.get(key, 0) + points


def _merge_window() -> timedelta:
    return timedelta(minutes=settings.DEPOSIT_MERGE_WINDOW_MINUTES)


def _bag_of(resident, material: Material, occurred_at: datetime) -> tuple[datetime, int]:
    """The bag this deposit joins (when it began) and what the bag weighed before it.

    A bag is the deposits of one material by one resident recorded one after another within the merge
    window of its first one; each deposit keeps the bag's running weight, so this is one indexed row
    however big the bag. The caller holds the resident's row lock, so two deposits never both read it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bag_started_at, bag_weight_g FROM kiosks_deposit WHERE resident_id = %s AND material_id = %s "
            "ORDER BY id DESC LIMIT 1",
            [resident.pk, material.pk],
        )
        last = cursor.fetchone()
    if last and last[0] is not None and occurred_at - _merge_window() <= last[0] <= occurred_at:
        return last[0], last[1] or 0
    return occurred_at, 0


def record_deposit(*, kiosk: Kiosk, payload: dict, upload: UploadBudget | None = None) -> DepositOutcome:
    """Record one deposit and credit its points, exactly once per (kiosk, deposit_id).

    Points are those of the whole bag (`_bag_of`) less what its earlier deposits earned, rounded once
    on the bag's weight, then held to the day's caps of the kiosk, the resident and the household, and
    to the upload's bound on back-dated credit: over that bound the deposit is refused and nothing of
    it is written.
    """
    expected = deposit_fingerprint(payload)
    existing = _stored_answer(kiosk, payload["deposit_id"])
    if existing:
        return _replay(*existing, expected)

    now = timezone.now()
    upload = upload or UploadBudget(now)
    occurred_at = payload["occurred_at"]
    if occurred_at < now - OFFLINE_WINDOW:
        raise StaleDeposit()
    if occurred_at > now + FUTURE_TOLERANCE:
        raise FutureDeposit()
    city_id = kiosk.community.district.city_id
    # The rules in force when the deposit happened, however late it arrives: its price, caps and memo.
    rules = rules_in_force(city_id, at=occurred_at)
    material = _accepted_material(kiosk, payload["material"], city_id=city_id, rules=rules)
    weight_g = payload["weight_g"]
    if not material.min_weight_g <= weight_g <= material.max_weight_g:
        raise ImplausibleWeight(
            extra={"min_weight_g": material.min_weight_g, "max_weight_g": material.max_weight_g}
        )
    # No savepoint: the view's transaction (which also spent the nonce) is the one commit.
    with transaction.atomic(savepoint=False):
        # The resident's row first: their bags and their household are read under it (see the lock
        # order in the module docstring). A session's lookup takes that lock itself.
        resident, session = _resident_for(kiosk, payload, occurred_at)
        if session is None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT household_id FROM accounts_user WHERE id = %s FOR NO KEY UPDATE", [resident.pk]
                )
                (resident.household_id,) = cursor.fetchone()
        household_id = resident.household_id
        bag_started_at, bag_before_g = _bag_of(resident, material, occurred_at)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO kiosks_deposit (kiosk_id, deposit_id, resident_id, household_id, community_id, "
                "session_id, material_id, weight_g, count, occurred_at, received_at, points_awarded, fingerprint, "
                "response, bag_started_at, bag_weight_g) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, '{}', %s, %s) "
                "ON CONFLICT (kiosk_id, deposit_id) DO NOTHING RETURNING id",
                [
                    kiosk.pk,
                    payload["deposit_id"],
                    resident.pk,
                    household_id,
                    kiosk.community_id,
                    session.pk if session else None,
                    material.pk,
                    weight_g,
                    payload.get("count"),
                    occurred_at,
                    now,
                    expected,
                    bag_started_at,
                    bag_before_g + weight_g,
                ],
            )
            row = cursor.fetchone()
        if row is None:
            # A concurrent duplicate committed first: answer as its retry.
            return _replay(*_stored_answer(kiosk, payload["deposit_id"]), expected)
        award = deposit_award(rules=rules, material=material, weight_g=bag_before_g + weight_g)
        earned_before = (
            deposit_award(rules=rules, material=material, weight_g=bag_before_g).points if bag_before_g else 0
        )
        own = deposit_award(rules=rules, material=material, weight_g=weight_g)
        points = _capped_points(kiosk, resident, max(0, award.points - earned_before), occurred_at, rules)
        upload.check(resident, occurred_at, points)
        balance = None
        if points:
            result = credit(
                resident=resident,
                amount=points,
                cause=f"deposit:{kiosk.pk}:{payload['deposit_id']}",
                kind="deposit",
                memo=own.memo,
                memo_params={
                    **own.memo_params,
                    "rules_version": rules.version,
                },
            )
            balance = result.balance
        if balance is None:
            balance = balance_of(resident)
        body = {"deposit_id": str(payload["deposit_id"]), "points_awarded": points, "balance": balance}
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE kiosks_deposit SET points_awarded = %s, response = %s::jsonb WHERE id = %s",
                [points, json.dumps(body), row[0]],
            )
        count_after_commit(DEPOSITS)
    upload.spend(resident, occurred_at, points)
    return DepositOutcome(created=True, body=body)


def _capped_points(kiosk: Kiosk, resident, raw: int, occurred_at: datetime, rules) -> int:
    """Points for this deposit within the day's caps of the kiosk, the resident and the household.

    One call (`kiosks_grant_deposit_points`, migration 0007) creates or row-locks the three running
    totals of the deposit's day, kiosk row first, then the resident's, then the household's (the lock
    order of rewards.caps), so concurrent deposits cannot both squeeze under a cap, and counts the grant
    on each. The day is the deposit's own, however late it was uploaded.
    """
    if raw == 0:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kiosks_grant_deposit_points(%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                kiosk.pk,
                resident.pk,
                resident.household_id,
                timezone.localtime(occurred_at).date(),
                raw,
                rules.kiosk_daily_points_cap,
                rules.resident_daily_deposit_points_cap,
                rules.household_daily_points_cap,
            ],
        )
        return cursor.fetchone()[0]


def record_batch(*, kiosk: Kiosk, items: list[dict | DomainError]) -> list[DepositOutcome | DomainError]:
    """Each item in its own transaction, answered in order; one bad item never fails the others.

    An item is a parsed deposit payload, or the error that parsing it raised: that one is answered as is.
    """
    if len(items) > BATCH_LIMIT:
        raise BatchTooLarge()
    results: list[DepositOutcome | DomainError] = []
    upload = UploadBudget()
    for item in items:
        if isinstance(item, DomainError):
            results.append(item)
            continue
        try:
            # Each item its own savepoint: record_deposit joins the caller's transaction without one.
            with transaction.atomic():
                results.append(record_deposit(kiosk=kiosk, payload=item, upload=upload))
        except DomainError as exc:
            results.append(exc)
        except DatabaseError:
            # Its own transaction rolled back; the items before and after it stand on their own.
            logger.exception("batch item of kiosk %s failed", kiosk.pk)
            results.append(DepositFailed())
    return results


# ---- heartbeats and alerts ------------------------------------------------------------------------


def _alert(kiosk: Kiosk, kind: str, material: str = "", detail: str = "") -> None:
    _alert_row, created = KioskAlert.objects.get_or_create(
        kiosk=kiosk, kind=kind, material=material, cleared_at=None, defaults={"detail": detail}
    )
    if created:
        payload = {
            "kiosk_id": kiosk.pk,
            "kiosk": kiosk.name,
            "kind": kind,
            "material": material,
            "detail": detail,
            "district_id": kiosk.community.district_id,
        }
        publish(district_stats_group(kiosk.community.district_id), "kiosk.alert", payload)
        publish(city_stats_group(kiosk.community.district.city_id), "kiosk.alert", payload)


def _clear(kiosk: Kiosk, kind: str, materials: list[str] | None = None) -> None:
    alerts = KioskAlert.objects.filter(kiosk=kiosk, kind=kind, cleared_at__isnull=True)
    if materials is not None:
        alerts = alerts.filter(material__in=materials)
    alerts.update(cleared_at=timezone.now())


def raise_custody_alerts(detail_by_kiosk: dict[int, str]) -> int:
    """Alert every kiosk with a hazardous batch left too long without a closed manifest, and clear the
    custody alert of every other kiosk: run whole by the daily check, so it converges."""
    KioskAlert.objects.filter(kind=KioskAlert.Kind.CUSTODY, cleared_at__isnull=True).exclude(
        kiosk_id__in=list(detail_by_kiosk)
    ).update(cleared_at=timezone.now())
    for kiosk in Kiosk.objects.filter(pk__in=list(detail_by_kiosk)).select_related("community__district"):
        _alert(kiosk, KioskAlert.Kind.CUSTODY, detail=detail_by_kiosk[kiosk.pk][:200])
    return len(detail_by_kiosk)


@transaction.atomic
def heartbeat(*, kiosk: Kiosk, status: str, fill_levels: dict, firmware: str = "") -> None:
    Kiosk.objects.filter(pk=kiosk.pk).update(
        last_heartbeat_at=timezone.now(),
        reported_status=status[:32],
        fill_levels=fill_levels,
        firmware=firmware[:64] or kiosk.firmware,
    )
    _clear(kiosk, KioskAlert.Kind.SILENT)
    full = {m: p for m, p in fill_levels.items() if p >= FILL_ALERT_PERCENT}
    for material, percent in full.items():
        _alert(kiosk, KioskAlert.Kind.FILL, material, f"{percent}% full")
    _clear(kiosk, KioskAlert.Kind.FILL, [m for m in fill_levels if m not in full])


def check_silent_kiosks(*, now: datetime | None = None) -> int:
    """Raise a `silent` alert for every enabled kiosk not heard from for 10 minutes; idempotent."""
    cutoff = (now or timezone.now()) - SILENCE_LIMIT
    raised = 0
    silent = Kiosk.objects.filter(enabled=True, created_at__lt=cutoff).select_related("community__district")
    for kiosk in silent.exclude(last_heartbeat_at__gte=cutoff):
        with transaction.atomic():
            before = KioskAlert.objects.filter(kiosk=kiosk, kind="silent", cleared_at__isnull=True).exists()
            _alert(
                kiosk,
                KioskAlert.Kind.SILENT,
                detail=f"no heartbeat for {SILENCE_LIMIT.seconds // 60} minutes",
            )
            raised += not before
    return raised


# ---- pickups: a kiosk emptied -------------------------------------------------------------------

# A pickup line more than this share off what the kiosk weighed in is flagged and alerted (never clipped).
PICKUP_TOLERANCE = settings.PICKUP_TOLERANCE


@dataclass(frozen=True)
class PickupOutcome:
    pickup: Pickup
    created: bool


def _pickup_fingerprint(collected_at: datetime, lines: dict[str, int], collector_id) -> str:
    return fingerprint({"collected_at": collected_at.isoformat(), "lines": lines, "collector": collector_id})


def _off_tolerance(weight_g: int, expected_g: int) -> bool:
    return abs(weight_g - expected_g) > PICKUP_TOLERANCE * expected_g if expected_g else weight_g > 0


def record_pickup(
    *,
    kiosk: Kiosk,
    pickup_id,
    collected_at: datetime,
    lines: dict[str, int],
    source: str,
    collector=None,
    actor=None,
) -> PickupOutcome:
    """Record a kiosk emptied: what each material weighed at the hand-over against what was deposited.

    Deposits of the kiosk after its previous pickup up to `collected_at` feed this pickup; a deposited
    material missing from `lines` gets a line of 0 g. Lines off by more than PICKUP_TOLERANCE are kept
    as weighed, flagged, and raised as a `shrink` alert. Retrying the same pickup_id returns the first
    pickup (created False); the same id with other lines is an idempotency conflict.
    """
    if actor is not None:
        _managed(actor, kiosk)
    if collector is not None and not can_manage_district(collector, kiosk.community.district):
        raise OutOfScope()
    if not lines or any(not isinstance(w, int) or w <= 0 for w in lines.values()):
        raise BadPickupWeight(fields={"lines": [str(BadPickupWeight.message)]})
    if collected_at > timezone.now() + FUTURE_TOLERANCE:
        raise FuturePickup()
    city_id = kiosk.community.district.city_id
    materials = {code: _city_material(code, city_id) for code in lines}
    if None in materials.values():
        raise UnknownMaterial()
    digest = _pickup_fingerprint(collected_at, lines, getattr(collector, "pk", None))
    with transaction.atomic():
        # One pickup of a kiosk at a time: which deposits it covers depends on the one before.
        Kiosk.objects.select_for_update().filter(pk=kiosk.pk).first()
        existing = Pickup.objects.filter(kiosk=kiosk, pickup_id=pickup_id).first()
        if existing is not None:
            return PickupOutcome(
                first_answer(
                    stored_fingerprint=existing.fingerprint, response=existing, expected_fingerprint=digest
                ),
                created=False,
            )
        previous = Pickup.objects.filter(kiosk=kiosk).order_by("-covers_until").first()
        if previous is not None and previous.covers_until >= collected_at:
            raise PickupOutOfOrder()
        deposits = Deposit.objects.filter(kiosk=kiosk, occurred_at__lte=collected_at)
        if previous is not None:
            deposits = deposits.filter(occurred_at__gt=previous.covers_until)
        expected = dict(
            deposits.values("material__code").annotate(g=Sum("weight_g")).values_list("material__code", "g")
        )
        for code in expected:
            materials.setdefault(code, Material.objects.get(code=code))
        pickup = Pickup.objects.create(
            kiosk=kiosk,
            pickup_id=pickup_id,
            collector=collector,
            source=source,
            collected_at=collected_at,
            covers_until=collected_at,
            fingerprint=digest,
        )
        for code, material in sorted(materials.items()):
            weight, weighed_in = lines.get(code, 0), int(expected.get(code, 0))
            flagged = _off_tolerance(weight, weighed_in)
            PickupLine.objects.create(
                pickup=pickup, material=material, weight_g=weight, expected_g=weighed_in, flagged=flagged
            )
            if flagged:
                _alert(
                    kiosk,
                    KioskAlert.Kind.SHRINKAGE,
                    code,
                    f"picked up {weight / 1000:.3f} kg of {weighed_in / 1000:.3f} kg deposited",
                )
    return PickupOutcome(pickup, created=True)
