"""Reads of bins and drops, scoped to the caller."""

from django.db.models import QuerySet

from accounts.models import Role
from accounts.selectors import visible_districts

from .models import Bin, Drop


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
