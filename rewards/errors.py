from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError, InvalidInput, PermissionDenied


class InsufficientPoints(DomainError):
    code = "insufficient_points"
    message = _("Not enough points.")


# A caller's bug rather than a resident's: no view lets a client choose an amount.
class InvalidAmount(InvalidInput):
    code = "invalid"
    message = _("A ledger amount must be a positive whole number of points.")


class OutOfStock(DomainError):
    code = "out_of_stock"
    message = _("This reward is out of stock.")


class LimitReached(DomainError):
    code = "limit_reached"
    message = _("You have reached the limit for this reward.")


class RewardUnavailable(DomainError):
    code = "reward_unavailable"
    message = _("This reward is not available now.")


class NotCancellable(DomainError):
    code = "not_cancellable"
    message = _("Only an unfulfilled voucher can be cancelled.")


# A merchant fulfils vouchers of their own shop's rewards only.
class NotYourShop(PermissionDenied):
    code = "permission_denied"
    message = _("This voucher belongs to another shop.")


# A leaderboard ranks the reader's own community or district, so it needs one.
class NothingToRank(InvalidInput):
    code = "invalid"
    message = _("You have no community or district to rank in: join a household first.")


class DuplicateFactor(DomainError):
    code = "duplicate_factor"
    message = _("The city already has a factor for this material (or category) and destination.")


class LedgerUnavailable(RuntimeError):
    """A system account is missing (the migrations were not applied): a server fault, not the client's.
    Nothing was posted."""


# A shop's vouchers are paid by its city, so its merchants must be staff of that city.
class MerchantOfOtherCity(DomainError):
    code = "merchant_other_city"
    message = _("This merchant belongs to another city.")


class NotAMerchant(InvalidInput):
    code = "not_a_merchant"
    message = _("That user is not a merchant.")


class DistrictOfOtherCity(PermissionDenied):
    code = "out_of_scope"
    message = _("That district belongs to another city.")


class SettlementPeriodTooLong(InvalidInput):
    code = "period_too_long"
    message = _("A settlement period may span at most three years.")


# History is not rewritten: work already done keeps the rules it was done under.
class VersionInPast(DomainError):
    code = "version_in_past"
    message = _("A new version of the point rules cannot start in the past.")


class VersionOverlaps(DomainError):
    code = "version_overlaps"
    message = _("A new version of the point rules must start after the latest version.")


class SharedMaterial(PermissionDenied):
    code = "shared_material"
    message = _(
        "This material belongs to the catalog every city shares: only an administrator changes it. "
        "A city officer sets its price and whether the city takes it."
    )


class UnpricedMaterial(InvalidInput):
    code = "unknown_material"
    message = _("Prices name only materials of the city's own catalog.")
