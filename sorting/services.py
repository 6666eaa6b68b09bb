"""Write use cases of sorting: bins and their labels, drops with their anti-fraud rules, verdicts.

A bin's QR code stays on the bin for years and anyone can photograph it, so a drop is only worth
points once an inspector (or the district's auto-accept policy) says it was sorted correctly, and the
rules below make scanning from home pointless: one bin once per window, a daily limit, and distance.
A resident's drops are serialised on their user row so two phones cannot both slip under a limit.
"""

import math
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import OutOfScope
from accounts.models import Role, User
from accounts.selectors import can_manage_district, resident_from_code
from backend.codes.signing import BIN, InvalidCode, sign, verify
from backend.errors import NotFound, PermissionDenied, ValidationFailed
from backend.observability.metrics import DROPS, count_after_commit
from backend.realtime.groups import user_group
from backend.realtime.publish import publish
from rewards.models import Memo
from rewards.selectors import rules_in_force
from rewards.services import credit, household_room, lock_resident_account, spend_household_room

from .errors import (
    AlreadyGraded,
    BinInactive,
    CoordinatesRequired,
    DailyLimit,
    NoHousehold,
    NothingToSample,
    OutOfRange,
    PhotoLimit,
    SameInspector,
    TooSoon,
)
from .models import Bin, Drop, Reinspection, ReinspectionSample, SortingPolicy
from .periods import day_bounds
from .photos import delete_photo, prepared_photo, save_photo, stored_before

EARTH_RADIUS_M = 6_371_000


# ---- bins --------------------------------------------------------------------------------------


def bin_code(bin_: Bin) -> str:
    return sign(BIN, {"b": bin_.pk, "v": bin_.label_version})


def bin_from_code(code) -> Bin:
    """The bin a genuine, current label names; a code of a re-printed label is void."""
    payload = verify(BIN, code)
    bin_ = Bin.objects.select_related("community__district").filter(pk=payload.get("b")).first()
    if bin_ is None or bin_.label_version != payload.get("v"):
        raise InvalidCode()
    return bin_


def create_bin(*, actor, community, category: str, name: str, lat=None, lng=None) -> Bin:
    if not can_manage_district(actor, community.district):
        raise OutOfScope()
    return Bin.objects.create(community=community, category=category, name=name.strip(), lat=lat, lng=lng)


def reprint_label(*, actor, bin_: Bin) -> Bin:
    if not can_manage_district(actor, bin_.community.district):
        raise NotFound()
    with transaction.atomic():
        bin_ = Bin.objects.select_for_update().get(pk=bin_.pk)
        bin_.label_version += 1
        bin_.save(update_fields=["label_version"])
    return bin_


def set_bin_status(*, actor, bin_: Bin, status: str) -> Bin:
    if not can_manage_district(actor, bin_.community.district):
        raise NotFound()
    Bin.objects.filter(pk=bin_.pk).update(status=status)
    bin_.status = status
    return bin_


# ---- drops -------------------------------------------------------------------------------------


def policy_for(district) -> SortingPolicy:
    policy, _ = SortingPolicy.objects.get_or_create(district=district)
    return policy


def distance_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance (haversine), plenty for a few hundred metres."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lng2) - float(lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _day_start(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def _check_rules(resident: User, bin_: Bin, policy: SortingPolicy, lat, lng, now: datetime) -> None:
    if Drop.objects.filter(
        resident=resident, bin=bin_, created_at__gt=now - timedelta(seconds=policy.repeat_window_seconds)
    ).exists():
        raise TooSoon(extra={"repeat_window_seconds": policy.repeat_window_seconds})
    if (
        Drop.objects.filter(resident=resident, created_at__gte=_day_start(now)).count()
        >= policy.daily_drop_limit
    ):
        raise DailyLimit(extra={"daily_drop_limit": policy.daily_drop_limit})
    if bin_.lat is not None and bin_.lng is not None and (lat is None or lng is None):
        if policy.require_coordinates:
            raise CoordinatesRequired()
    if None not in (lat, lng, bin_.lat, bin_.lng):
        distance = distance_m(lat, lng, bin_.lat, bin_.lng)
        if distance > policy.max_distance_m:
            raise OutOfRange(extra={"distance_m": round(distance), "max_distance_m": policy.max_distance_m})


def _spend_photo_allowance(resident: User, now: datetime) -> None:
    """Photos a resident may send per hour (each costs a decode), counted in the shared cache."""
    limit = settings.SORTING_PHOTOS_PER_HOUR
    key = f"drop-photos:{resident.pk}:{now:%Y%m%d%H}"
    cache.add(key, 0, timeout=3600)
    try:
        sent = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        sent = 1
    if sent > limit:
        raise PhotoLimit(extra={"photos_per_hour": limit})


def record_drop(
    *,
    resident: User,
    bin_code_value: str,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    photo=None,
) -> Drop:
    """A resident's drop, pending until graded, with an optional uploaded photo.

    Every rule runs before the photo is decoded, decoding is bounded (sorting.photos), and the photo is
    written inside the transaction that records the drop: a refused drop leaves no file behind, and
    `purge_orphan_photos` removes what a crash between the write and the commit could leave.
    """
    if resident.household_id is None:
        raise NoHousehold()
    bin_ = bin_from_code(bin_code_value)
    if bin_.status != Bin.Status.ACTIVE:
        raise BinInactive()
    policy = policy_for(bin_.community.district)
    jpeg = None
    if photo:
        # Decoding is the costly step, so it comes last: a drop the rules refuse is never decoded. The
        # rules run again under the lock below, where two phones racing meet.
        _check_rules(resident, bin_, policy, lat, lng, timezone.now())
        _spend_photo_allowance(resident, timezone.now())
        jpeg = prepared_photo(photo)
    stored = ""
    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=resident.pk).first()
            _check_rules(resident, bin_, policy, lat, lng, timezone.now())
            stored = save_photo(jpeg) if jpeg else ""
            count_after_commit(DROPS)
            return Drop.objects.create(
                bin=bin_,
                resident=resident,
                household_id=resident.household_id,
                community=bin_.community,
                lat=lat,
                lng=lng,
                photo=stored,
            )
    except BaseException:
        if stored:
            delete_photo(stored)
        raise


def purge_orphan_photos(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete stored photos no drop names: a process that died between writing a photo and committing
    its drop leaves one. Only files older than `older_than`, so a drop committing now keeps its own."""
    candidates = stored_before(timezone.now() - older_than)
    if not candidates:
        return 0
    named = set(Drop.objects.filter(photo__in=candidates).values_list("photo", flat=True))
    orphans = [name for name in candidates if name not in named]
    for name in orphans:
        delete_photo(name)
    return len(orphans)


def _points_for_accepted(drop: Drop, rules) -> int:
    """Points for an accepted drop within the resident's daily drop-points cap and the household's
    daily cap across every channel, both of the drop's own day (not the day it is graded).

    The household's day total is locked before the resident's account, the order deposits take too.
    """
    start = _day_start(drop.created_at)
    household = household_room(
        household_id=drop.household_id, day=start.date(), cap=rules.household_daily_points_cap
    )
    lock_resident_account(drop.resident)
    earned = (
        Drop.objects.filter(
            resident=drop.resident,
            created_at__gte=start,
            created_at__lt=start + timedelta(days=1),
            status=Drop.Status.ACCEPTED,
        )
        .exclude(pk=drop.pk)
        .aggregate(total=Sum("points_awarded"))["total"]
        or 0
    )
    points = max(0, min(rules.points_per_accepted_drop, rules.resident_daily_drop_points_cap - earned))
    if household is not None:
        points = min(points, household)
    spend_household_room(household_id=drop.household_id, day=start.date(), points=points)
    return points


def _settle(drop: Drop, *, status: str, verdict: str, grader, note: str) -> Drop:
    """Move a pending drop to its final state once; credits an accepted drop exactly once.

    The conditional UPDATE is the single winner among concurrent verdicts (and the auto-accept job);
    the credit's cause `drop:<id>` makes a second credit impossible even so.
    """
    now = timezone.now()
    settled = Drop.objects.filter(pk=drop.pk, status=Drop.Status.PENDING).update(
        status=status,
        verdict=verdict,
        verdict_note=note[:500],
        graded_by=grader,
        graded_at=now,
        updated_at=now,
    )
    if not settled:
        raise AlreadyGraded()
    drop.refresh_from_db()
    balance = None
    if status == Drop.Status.ACCEPTED:
        # The rules in force when the drop was made, not when it is graded: for its points and its memo.
        rules = rules_in_force(drop.community.district.city_id, at=drop.created_at)
        points = _points_for_accepted(drop, rules)
        if points:
            balance = credit(
                resident=drop.resident,
                amount=points,
                cause=f"drop:{drop.pk}",
                kind="sorting",
                memo=Memo.SORTING,
                memo_params={
                    "bin": drop.bin.name,
                    "rules_version": rules.version,
                },
            ).balance
            Drop.objects.filter(pk=drop.pk).update(points_awarded=points)
            drop.points_awarded = points
    publish(
        user_group(drop.resident_id),
        "drop.graded",
        {"id": drop.pk, "status": drop.status, "points_awarded": drop.points_awarded, "balance": balance},
    )
    return drop


def _can_grade(inspector: User, drop: Drop) -> bool:
    if inspector.role == Role.INSPECTOR:
        return inspector.communities.filter(pk=drop.community_id).exists()
    return inspector.is_superuser


def grade_drop(*, inspector: User, drop_id: int, verdict: str, note: str = "") -> Drop:
    with transaction.atomic():
        drop = (
            Drop.objects.select_related("bin", "resident", "community__district").filter(pk=drop_id).first()
        )
        if drop is None or not _can_grade(inspector, drop):
            raise NotFound()
        status = Drop.Status.ACCEPTED if verdict == Drop.Verdict.CORRECT else Drop.Status.REJECTED
        return _settle(drop, status=status, verdict=verdict, grader=inspector, note=note)


def inspect_on_the_spot(
    *, inspector: User, bin_code_value: str, resident_code: str, verdict: str, note: str = ""
) -> Drop:
    """An inspector at the bin scans the resident's code and grades the bag there and then."""
    bin_ = bin_from_code(bin_code_value)
    if not (inspector.is_superuser or inspector.communities.filter(pk=bin_.community_id).exists()):
        raise PermissionDenied()
    resident = resident_from_code(resident_code)
    if resident.household_id is None:
        raise NoHousehold()
    with transaction.atomic():
        drop = Drop.objects.create(
            bin=bin_, resident=resident, household_id=resident.household_id, community=bin_.community
        )
        drop = Drop.objects.select_related("bin", "resident", "community__district").get(pk=drop.pk)
        status = Drop.Status.ACCEPTED if verdict == Drop.Verdict.CORRECT else Drop.Status.REJECTED
        return _settle(drop, status=status, verdict=verdict, grader=inspector, note=note)


def auto_accept_pending(*, now: datetime | None = None) -> int:
    """Accept pending drops older than their district's delay. Idempotent: settled drops are skipped."""
    now = now or timezone.now()
    accepted = 0
    for policy in SortingPolicy.objects.filter(auto_accept_after__isnull=False).select_related("district"):
        due = Drop.objects.filter(
            community__district=policy.district,
            status=Drop.Status.PENDING,
            created_at__lte=now - policy.auto_accept_after,
        ).values_list("pk", flat=True)
        for drop_id in list(due):
            with transaction.atomic():
                drop = Drop.objects.select_related("bin", "resident", "community__district").get(pk=drop_id)
                try:
                    _settle(drop, status=Drop.Status.ACCEPTED, verdict="", grader=None, note="auto-accepted")
                    accepted += 1
                except AlreadyGraded:
                    continue
    return accepted


# ---- blind re-inspection ---------------------------------------------------------------------------

LARGEST_SAMPLE = 200


def request_reinspection(
    *, actor: User, district, size: int, period_from, period_to, inspector: User | None = None
) -> ReinspectionSample:
    """Draw up to `size` random drops graded by inspectors of the district in the period (by the day of
    their verdict), optionally only one inspector's, for another inspector to grade blind."""
    if not can_manage_district(actor, district):
        raise NotFound()
    if inspector is not None and not (
        inspector.role == Role.INSPECTOR and inspector.district_id == district.id
    ):
        message = _("Not an inspector of this district.")
        raise ValidationFailed(message, fields={"inspector_id": [message]})
    start, end = day_bounds(period_from, period_to)
    candidates = Drop.objects.filter(
        community__district=district,
        graded_by__role=Role.INSPECTOR,
        graded_at__gte=start,
        graded_at__lt=end,
    ).exclude(verdict="")
    if inspector is not None:
        candidates = candidates.filter(graded_by=inspector)
    # Only graded verdicts are drawn; ORDER BY random() over one district's period is cheap enough
    # for a request an officer makes by hand.
    chosen = list(candidates.order_by("?").values_list("pk", "graded_by_id", "verdict")[:size])
    if not chosen:
        raise NothingToSample()
    with transaction.atomic():
        sample = ReinspectionSample.objects.create(
            district=district,
            requested_by=actor,
            inspector=inspector,
            period_from=period_from,
            period_to=period_to,
            requested_size=size,
        )
        Reinspection.objects.bulk_create(
            Reinspection(sample=sample, drop_id=drop_id, first_inspector_id=grader, first_verdict=verdict)
            for drop_id, grader, verdict in chosen
        )
    return sample


def grade_reinspection(*, inspector: User, reinspection_id: int, verdict: str) -> Reinspection:
    """The second, blind verdict: once, by an inspector of the drop's community other than the first."""
    with transaction.atomic():
        item = (
            Reinspection.objects.select_for_update(of=("self",))
            .select_related("drop")
            .filter(pk=reinspection_id)
            .first()
        )
        if item is None or not _can_grade(inspector, item.drop):
            raise NotFound()
        if item.first_inspector_id == inspector.pk:
            raise SameInspector()
        if item.second_verdict:
            raise AlreadyGraded()
        item.second_inspector = inspector
        item.second_verdict = verdict
        item.graded_at = timezone.now()
        item.save(update_fields=["second_inspector", "second_verdict", "graded_at"])
    return item
