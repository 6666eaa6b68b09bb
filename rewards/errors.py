from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError


class InsufficientPoints(DomainError):
    code = "insufficient_points"
    message = _("Not enough points.")


class InvalidAmount(DomainError):
    code = "invalid"
    message = _("A ledger amount must be a positive whole number of points.")
