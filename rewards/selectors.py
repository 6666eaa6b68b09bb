"""Reads of points, scoped to the caller."""

from .models import Account


def balance_of(user) -> int:
    return Account.objects.filter(owner=user).values_list("balance", flat=True).first() or 0
