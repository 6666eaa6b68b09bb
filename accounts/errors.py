from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError


class PhoneTaken(DomainError):
    code = "phone_taken"
    message = _("An account with this phone number already exists.")


class InvalidPhone(DomainError):
    code = "invalid_phone"
    message = _("This is not a valid phone number.")


class InvalidDisplayName(DomainError):
    code = "invalid_display_name"
    message = _("A display name needs at least one visible character (at most 40).")


class WeakPassword(DomainError):
    code = "weak_password"
    message = _("This password is too weak.")


class RoleNotAllowed(DomainError):
    code = "role_not_allowed"
    message = _("You may not create staff with this role.")


class OutOfScope(DomainError):
    code = "out_of_scope"
    message = _("That district or community is outside your scope.")


# Rules and officers are per city; none is guessed for an account that names no city.
class CityUnknown(OutOfScope):
    code = "out_of_scope"
    message = _("Your account belongs to no city; ask an administrator to assign one.")


class InvalidTicket(DomainError):
    code = "invalid_ticket"
    message = _("The WebSocket ticket is unknown, used or expired.")


class CommunityExists(DomainError):
    code = "community_exists"
    message = _("A community with this name already exists in the district.")


class LoginLocked(DomainError):
    """Too many wrong passwords for this account or from this address; `retry_after` seconds remain."""

    code = "login_locked"
    message = _("Too many failed sign-in attempts. Try again in %(minutes)d minutes.")

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(self.message % {"minutes": minutes}, extra={"retry_after": retry_after})


class RefreshRefused(DomainError):
    """The refresh token is forged, expired, unknown, already used or of a revoked family."""

    code = "token_not_valid"
    message = _("The refresh token is not valid.")


class NotInHousehold(DomainError):
    code = "no_household"
    message = _("Join or create a household first.")


class RequestDecided(DomainError):
    code = "request_decided"
    message = _("This household request was already decided.")
