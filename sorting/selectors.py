"""Reads of bins and drops, scoped to the caller."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import SuspiciousFileOperation
from django.db.models import Aggregate, Avg, Count, F, FloatField, Func, Q, QuerySet

from accounts.models import Role, User
from accounts.selectors import visible_districts
from backend.errors import NotFound

from . import labels
from .errors import NoActiveBins, NoPhoto
from .models import Bin, Drop, Reinspection, ReinspectionSample
from .periods import day_bounds
from .photos import open_photo
from .services import bin_code


def bins_visible_to(user) -> QuerySet[Bin]:
    return Bin.objects.filter(community__district__in=visible_districts(user)).select_related("community")


def drops_visible_to(user) -> QuerySet[Drop]:
    """A resident's own drops; an inspector's communities; staff's district (or city)."""
    drops = Drop.objects.select_related("bin", "community")
    if user.role == Role.RESIDENT and not user.is_superuser:
        return drops.filter(resident=user)
    if user.role == Role.INSPECTOR:
        return drops.filter(community__in=user.communities.all())
    if user.role == Role.MERCHANT:
        return drops.none()
    return drops.filter(community__district__in=visible_districts(user))


def label_png(bin_: Bin) -> bytes:
    return labels.label_png(bin_, bin_code(bin_))


def label_svg(bin_: Bin) -> bytes:
    return labels.label_svg(bin_, bin_code(bin_))


def label_sheet_pdf(user, *, community_id: int) -> bytes:
    """Labels of a community's active bins, 3 x 3 per A4 page, for bins the user may see."""
    bins = list(bins_visible_to(user).filter(community_id=community_id, status=Bin.Status.ACTIVE))
    if not bins:
        raise NoActiveBins()
    return labels.sheet_pdf([(bin_, bin_code(bin_)) for bin_ in bins])


def drop_photo(user, *, drop_id: int):
    """The photo of a drop the user may see, opened for reading."""
    drop = drops_visible_to(user).filter(pk=drop_id).first()
    if drop is None:
        raise NotFound()
    try:
        return open_photo(drop.photo)
    except (OSError, SuspiciousFileOperation) as exc:
        raise NoPhoto() from exc


# ---- inspector quality -------------------------------------------------------------------------------


class Seconds(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class InspectorQuality:
    inspector_id: int
    display_name: str
    district_id: int
    verdicts: int
    correct: int
    median_seconds_to_verdict: float | None
    mean_seconds_to_verdict: float | None
    community_drops: int
    auto_accepted: int
    reinspected: int
    agreed: int


def inspector_quality(
    user, *, first: date, last: date, district_id: int | None = None
) -> list[InspectorQuality]:
    """Per inspector of the districts the user may read, for the days `first`..`last` (Asia/Shanghai):

    - verdicts given (by the day of the verdict), how many said correct, and the time from the drop to
      its verdict (median and mean seconds);
    - drops made in the inspector's communities and how many of those were left to auto-accept (a
      community with two inspectors counts for both);
    - their verdicts in the period that another inspector re-graded blind, and how many agreed.
    """
    districts = visible_districts(user)
    if district_id is not None:
        districts = districts.filter(pk=district_id)
        if not districts.exists():
            raise NotFound()
    inspectors = list(
        User.objects.filter(role=Role.INSPECTOR, district__in=districts).order_by("district_id", "id")
    )
    start, end = day_bounds(first, last)
    waited = Seconds(F("graded_at") - F("created_at"))
    verdicts = {
        row["graded_by"]: row
        for row in Drop.objects.filter(graded_by__in=inspectors, graded_at__gte=start, graded_at__lt=end)
        .exclude(verdict="")
        .values("graded_by")
        .annotate(
            verdicts=Count("id"),
            correct=Count("id", filter=Q(verdict=Drop.Verdict.CORRECT)),
            median=Median(waited),
            mean=Avg(waited),
        )
        .order_by()
    }
    left = {
        row["community__inspectors"]: row
        for row in Drop.objects.filter(
            community__inspectors__in=inspectors, created_at__gte=start, created_at__lt=end
        )
        .values("community__inspectors")
        .annotate(
            drops=Count("id"),
            auto=Count("id", filter=Q(status=Drop.Status.ACCEPTED, verdict="")),
        )
        .order_by()
    }
    agreement = {
        row["first_inspector"]: row
        for row in Reinspection.objects.filter(
            first_inspector__in=inspectors,
            graded_at__isnull=False,
            drop__graded_at__gte=start,
            drop__graded_at__lt=end,
        )
        .values("first_inspector")
        .annotate(reinspected=Count("id"), agreed=Count("id", filter=Q(second_verdict=F("first_verdict"))))
        .order_by()
    }
    results = []
    for inspector in inspectors:
        given = verdicts.get(inspector.pk, {})
        communities = left.get(inspector.pk, {})
        second = agreement.get(inspector.pk, {})
        results.append(
            InspectorQuality(
                inspector_id=inspector.pk,
                display_name=inspector.shown_name,
                district_id=inspector.district_id,
                verdicts=given.get("verdicts", 0),
                correct=given.get("correct", 0),
                median_seconds_to_verdict=given.get("median"),
                mean_seconds_to_verdict=float(given["mean"]) if given.get("mean") is not None else None,
                community_drops=communities.get("drops", 0),
                auto_accepted=communities.get("auto", 0),
                reinspected=second.get("reinspected", 0),
                agreed=second.get("agreed", 0),
            )
        )
    return results


def samples_visible_to(user) -> QuerySet[ReinspectionSample]:
    return ReinspectionSample.objects.filter(district__in=visible_districts(user))


def sample_items(sample: ReinspectionSample) -> QuerySet[Reinspection]:
    return sample.items.select_related("first_inspector", "second_inspector").order_by("id")


def reinspection_queue(inspector) -> QuerySet[Reinspection]:
    """What waits for this inspector's blind verdict: drops of their communities that someone else graded.

    The first verdict and who gave it are not part of what the queue shows.
    """
    return (
        Reinspection.objects.filter(second_verdict="", drop__community__in=inspector.communities.all())
        .exclude(first_inspector=inspector)
        .select_related("drop__bin", "drop__community")
        .order_by("id")
    )
