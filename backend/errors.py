"""The root of every domain error: services raise these, and `api/errors.py` maps `code` to HTTP."""

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


def _interpolate(message, params: dict) -> str:
    return str(message) % params


# Translated when rendered, not when raised, so each reader gets their own language.
interpolate_lazy = lazy(_interpolate, str)


class DomainError(Exception):
    code = "domain_error"
    message = _("The request breaks a rule of GreenLoop.")
    # Values a message states (a limit, a window), taken from the constant that sets them.
    params: dict = {}

    def __init__(self, message=None, *, fields=None, extra=None):
        if message is None and self.params:
            message = interpolate_lazy(self.message, self.params)
        self.message = message or self.message
        self.fields = fields
        self.extra = extra or {}
        super().__init__(str(self.message))


class NotFound(DomainError):
    code = "not_found"
    message = _("Not found.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    message = _("You may not do that.")


class InvalidInput(DomainError):
    code = "invalid"
    message = _("The input is not valid.")


class ValidationFailed(DomainError):
    """Field-level validation errors found outside a request's own serializer (a batch item, say)."""

    code = "validation_error"
    message = _("The input is not valid.")
