"""Write use cases of kiosks: provisioning, request authentication, sessions, deposits, heartbeats.

A deposit is exactly-once per (kiosk, deposit_id): its row is inserted in the same statement and
transaction as the ledger credit, so a retry (or a concurrent duplicate, which waits on its resident's
row lock) finds the stored first answer. Lock order inside a deposit: the resident's user row (their
bags), the kiosk's and the resident's day totals, the household's day total (rewards.caps), the
resident's points account (balance), then the deposit row.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import OutOfScope
from accounts.selectors import can_manage_district
from backend.codes.signing import KIOSK_SESSION, CodeUsed, ExpiredCode, InvalidCode, sign, verify
from backend.errors import DomainError, NotFound
from backend.idempotency import fingerprint, first_answer
from backend.observability.metrics import CREDITS, DEPOSITS, POINTS_CREDITED, count_after_commit, count_now
from backend.realtime.groups import city_stats_group, district_stats_group, kiosk_group, user_group
from backend.realtime.publish import publish, publish_from_loop
from rewards.models import Material
from rewards.selectors import deposit_terms_expiring, materials_of_city, reload_expiring_deposit_terms

from . import deposit_recording, kiosk_cache
from .credentials import derive_secret, signature_matches
from .errors import (
    BackdatedOverBound,
    BadNonce,
    BadPickupWeight,
    BadSignature,
    BatchTooLarge,
    ClockSkew,
    DepositFailed,
    FuturePickup,
    KioskDisabled,
    NonceReused,
    PickupOutOfOrder,
    SessionNotFound,
    UnknownMaterial,
)
from .limits import BATCH_LIMIT, FUTURE_TOLERANCE, NONCE_LENGTH, SIGNATURE_WINDOW
from .models import Deposit, Kiosk, KioskAlert, KioskNonce, KioskSession, Pickup, PickupLine

logger = logging.getLogger(__name__)

ROTATION_GRACE = timedelta(days=7)
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


def verified_kiosk(
    *,
    kiosk_id: str,
    signature: str,
    timestamp: str,
    nonce: str,
    method: str,
    path: str,
    body: bytes,
    now: datetime,
) -> Kiosk:
    """The kiosk that signed this request, or BadSignature / KioskDisabled; the nonce is not spent.

    Reads only the per-process kiosk cache until a signature fails against it, so under an event loop
    a cold entry shows up as SynchronousOnlyOperation before any query is sent."""
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
    return kiosk


def authenticate(
    *, kiosk_id: str, signature: str, timestamp: str, nonce: str, method: str, path: str, body: bytes
) -> Kiosk:
    """The kiosk that signed this request, or BadSignature / KioskDisabled. Spends the nonce."""
    now = timezone.now()
    kiosk = verified_kiosk(
        kiosk_id=kiosk_id,
        signature=signature,
        timestamp=timestamp,
        nonce=nonce,
        method=method,
        path=path,
        body=body,
        now=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO kiosks_kiosknonce (kiosk_id, nonce, seen_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (kiosk_id, nonce) DO NOTHING RETURNING id",
            [kiosk.pk, nonce, now],
        )
        if cursor.fetchone() is None:
            raise NonceReused()
    return kiosk


def warm_deposit_caches(*, kiosk_id: str) -> None:
    """Read afresh what a deposit of this kiosk reads from the per-process caches: the kiosk's row and
    its city's rules and materials (for a caller on an event loop, which cannot run the ORM itself)."""
    try:
        kiosk = kiosk_cache.get(int(kiosk_id), fresh=True)
    except (TypeError, ValueError):
        return
    if kiosk is None:
        return
    reload_expiring_deposit_terms(kiosk.community.district.city_id, within=0)


def deposit_caches_expiring(*, kiosk: Kiosk, within: float) -> bool:
    """Whether anything a deposit of this kiosk reads from the per-process caches expires soon."""
    return kiosk_cache.expiring(kiosk.pk, within) or deposit_terms_expiring(
        kiosk.community.district.city_id, within=within
    )


def reload_expiring_deposit_caches(*, kiosk_pk: int, within: float) -> None:
    """Reload ahead of expiry what a deposit of this kiosk reads, so a busy kiosk never waits for it."""
    if kiosk_cache.expiring(kiosk_pk, within):
        kiosk = kiosk_cache.get(kiosk_pk, fresh=True)
    else:
        kiosk = kiosk_cache.get(kiosk_pk)
    if kiosk is not None:
        reload_expiring_deposit_terms(kiosk.community.district.city_id, within=within)


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


class UploadBudget:
    """What one upload (a single deposit or a whole batch) has credited each household for deposits
    dated before the upload's own day, against BACKDATED_POINTS_PER_UPLOAD."""

    def __init__(self):
        self.bound = settings.BACKDATED_POINTS_PER_UPLOAD
        self.spent: dict[tuple[str, int], int] = {}

    @staticmethod
    def key(resident_id: int, household_id: int | None) -> tuple[str, int]:
        # A resident without a household is their own household here.
        return ("household", household_id) if household_id else ("resident", resident_id)

    def left_for(self, recorded: deposit_recording.Recorded) -> int:
        return self.bound - self.spent.get(self.key(recorded.resident_id, recorded.household_id), 0)

    def spend(self, recorded: deposit_recording.Recorded) -> None:
        key = self.key(recorded.resident_id, recorded.household_id)
        self.spent[key] = self.spent.get(key, 0) + recorded.points


def record_deposit(*, kiosk: Kiosk, payload: dict, upload: UploadBudget | None = None) -> DepositOutcome:
    """Record one deposit and credit its points, exactly once per (kiosk, deposit_id), in one statement
    (`kiosks_record_deposit`, see kiosks.deposit_recording).

    Points are those of the whole bag less what its earlier deposits earned, rounded once on the bag's
    weight, then held to the day's caps of the kiosk, the resident and the household, and to the
    upload's bound on back-dated credit: over that bound the deposit is refused and nothing of it is
    written. The caller's transaction (the view's, which also spent the nonce, or a batch item's
    savepoint) is the one commit.
    """
    upload = upload or UploadBudget()
    call = deposit_recording.prepare(
        kiosk=kiosk, payload=payload, nonce=None, backdated_bound=upload.bound, now=timezone.now()
    )
    with transaction.atomic(savepoint=False):
        try:
            with connection.cursor() as cursor:
                cursor.execute(deposit_recording.SQL, call.params)
                result = deposit_recording.recorded(cursor.fetchone())
        except DatabaseError as exc:
            refusal = deposit_recording.refusal_of(call, exc.__cause__ or exc)
            if refusal is None:
                raise
            raise refusal from None
        if not result.created:
            return DepositOutcome(created=False, body=result.body)
        if call.backdated and result.points > upload.left_for(result):
            # Earlier items of this upload took the household's back-dated budget: rolled back whole.
            raise BackdatedOverBound(extra={"backdated_points_per_upload": upload.bound})
        announce_credit(result)
    if call.backdated:
        upload.spend(result)
    return DepositOutcome(created=True, body=result.body)


def announce_credit(result: deposit_recording.Recorded) -> None:
    """The metrics and the resident's `points.credited` of a recorded deposit, once it commits."""
    _announce(result, count=count_after_commit, send=publish)


def _announce(result: deposit_recording.Recorded, *, count, send) -> None:
    count(DEPOSITS)
    if not result.points:
        return
    count(CREDITS, kind="deposit")
    count(POINTS_CREDITED, result.points, kind="deposit")
    event = {
        "amount": result.points,
        "kind": "deposit",
        "balance": result.body["balance"],
        "transaction_id": result.transaction_id,
    }
    send(user_group(result.resident_id), "points.credited", event)


async def record_deposit_on(
    connection, *, kiosk: Kiosk, payload: dict, nonce: str, prepare: bool = True
) -> DepositOutcome:
    """Record one signed deposit on an autocommit psycopg AsyncConnection: the nonce, the deposit and its
    credit in one statement, so one commit. Raises the refusal's DomainError with nothing written (the
    nonce included); any other database error passes through. `prepare`: a server-side prepared
    statement, off behind a pooler that cannot keep one (PgBouncer before 1.21)."""
    call = deposit_recording.prepare(
        kiosk=kiosk,
        payload=payload,
        nonce=nonce,
        backdated_bound=settings.BACKDATED_POINTS_PER_UPLOAD,
        now=timezone.now(),
    )
    try:
        cursor = await connection.execute(deposit_recording.SQL, call.params, prepare=prepare)
        result = deposit_recording.recorded(await cursor.fetchone())
    except psycopg.Error as exc:
        refusal = deposit_recording.refusal_of(call, exc)
        if refusal is None:
            raise
        raise refusal from None
    if result.created:
        # Committed already (autocommit): counted and published now, from the server's own loop.
        _announce(result, count=count_now, send=publish_from_loop)
    return DepositOutcome(created=result.created, body=result.body)


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
    materials = {code: deposit_recording.city_material(code, city_id) for code in lines}
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
