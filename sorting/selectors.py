"""Reads of bins and drops, scoped to the caller."""

from django.core.exceptions import SuspiciousFileOperation
from django.db.models import QuerySet

from accounts.models import Role
from accounts.selectors import visible_districts
from backend.errors import NotFound

from . import labels
from .errors import NoActiveBins, NoPhoto
from .models import Bin, Drop
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
