from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError


class BadSignature(DomainError):
    code = "bad_signature"
    message = _("The request signature is not valid.")


class KioskDisabled(DomainError):
    code = "kiosk_disabled"
    message = _("This kiosk is disabled.")


class UnknownMaterial(DomainError):
    code = "unknown_material"
    message = _("Unknown material.")


class MaterialNotAccepted(DomainError):
    code = "material_not_accepted"
    message = _("This kiosk does not accept that material.")


class ImplausibleWeight(DomainError):
    code = "implausible_weight"
    message = _("The weight is outside the plausible range for this material.")


class StaleDeposit(DomainError):
    code = "stale_deposit"
    message = _("The deposit happened more than 30 days ago.")


class FutureDeposit(DomainError):
    code = "future_deposit"
    message = _("The deposit is dated more than 5 minutes in the future.")


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    message = _("This deposit_id was already used with a different body.")


class BatchTooLarge(DomainError):
    code = "batch_too_large"
    message = _("A batch holds at most 500 deposits.")


class SessionNotUsable(DomainError):
    code = "session_closed"
    message = _("This kiosk session is not open for deposits.")


class NoResident(DomainError):
    code = "invalid"
    message = _("Give either session_id or resident_code.")


class SessionNotFound(DomainError):
    code = "session_not_found"
    message = _("No such session for this kiosk.")


class CodeUsed(DomainError):
    code = "code_used"
    message = _("This code has already been used.")


class BadPickupWeight(DomainError):
    code = "bad_pickup_weight"
    message = _("Every pickup line needs a positive weight in grams, one line per material.")


class FuturePickup(DomainError):
    code = "future_pickup"
    message = _("A pickup cannot be dated in the future.")


class PickupOutOfOrder(DomainError):
    code = "pickup_out_of_order"
    message = _("The kiosk has a later pickup already: record pickups in the order they happened.")
