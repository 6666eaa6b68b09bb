from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError, InvalidInput

from .limits import BATCH_LIMIT, FUTURE_TOLERANCE, NONCE_LENGTH, OFFLINE_WINDOW, SIGNATURE_WINDOW


class BadSignature(DomainError):
    code = "bad_signature"
    message = _("The request signature is not valid.")


class ClockSkew(BadSignature):
    code = "bad_signature"
    message = _("X-Timestamp is more than %(seconds)s seconds off the server's clock.")
    params = {"seconds": int(SIGNATURE_WINDOW.total_seconds())}


class BadNonce(BadSignature):
    code = "bad_signature"
    message = _("X-Nonce must be %(shortest)s to %(longest)s printable ASCII characters.")
    params = {"shortest": NONCE_LENGTH.start, "longest": NONCE_LENGTH.stop - 1}


# A replayed request: its nonce is remembered in PostgreSQL for twice the signature window.
class NonceReused(BadSignature):
    code = "bad_signature"
    message = _("This X-Nonce was used before.")


class KioskDisabled(DomainError):
    code = "kiosk_disabled"
    message = _("This kiosk is disabled.")


class UnknownMaterial(DomainError):
    code = "unknown_material"
    message = _("Unknown material.")


class MaterialNotAccepted(DomainError):
    code = "material_not_accepted"
    message = _("This kiosk does not accept that material.")


class MaterialNotPriced(DomainError):
    code = "material_not_priced"
    message = _("The city's point rules in force at the deposit's time give this material no price.")


class ImplausibleWeight(DomainError):
    code = "implausible_weight"
    message = _("The weight is outside the plausible range for this material.")


class StaleDeposit(DomainError):
    code = "stale_deposit"
    message = _("The deposit happened more than %(days)s days ago.")
    params = {"days": OFFLINE_WINDOW.days}


class FutureDeposit(DomainError):
    code = "future_deposit"
    message = _("The deposit is dated more than %(minutes)s minutes in the future.")
    params = {"minutes": int(FUTURE_TOLERANCE.total_seconds() // 60)}


class DepositFailed(DomainError):
    """One batch item the database refused for a reason no rule names; the kiosk may send it again."""

    code = "deposit_failed"
    message = _("This deposit could not be recorded; send it again later.")


class BatchTooLarge(DomainError):
    code = "batch_too_large"
    message = _("A batch holds at most %(limit)s deposits.")
    params = {"limit": BATCH_LIMIT}


class SessionClosed(DomainError):
    code = "session_closed"
    message = _("This kiosk session is not open for deposits.")


# A deposit credits a resident, named by a claimed session or their code.
class NoResident(InvalidInput):
    code = "invalid"
    message = _("Give either session_id or resident_code.")


class SessionNotFound(DomainError):
    code = "session_not_found"
    message = _("No such session for this kiosk.")


class BadPickupWeight(DomainError):
    code = "bad_pickup_weight"
    message = _("Every pickup line needs a positive weight in grams, one line per material.")


class FuturePickup(DomainError):
    code = "future_pickup"
    message = _("A pickup cannot be dated in the future.")


class PickupOutOfOrder(DomainError):
    code = "pickup_out_of_order"
    message = _("The kiosk has a later pickup already: record pickups in the order they happened.")


class BeforeCodeIssued(DomainError):
    code = "before_code_issued"
    message = _("The deposit is dated before the resident code it names was issued.")


class BeforeSessionOpened(DomainError):
    code = "before_session_opened"
    message = _("The deposit is dated before its kiosk session was opened.")


class BackdatedOverBound(DomainError):
    """A deposit dated before the upload's day that would take the household's back-dated credit in
    this upload past BACKDATED_POINTS_PER_UPLOAD; it is not recorded and may be sent in a later upload."""

    code = "backdated_over_bound"
    message = _("This upload has credited the household all the back-dated points one upload may.")
