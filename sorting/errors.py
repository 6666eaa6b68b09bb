from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError, InvalidInput, NotFound


class BinInactive(DomainError):
    code = "bin_inactive"
    message = _("This bin is not in service.")


class TooSoon(DomainError):
    code = "too_soon"
    message = _("You dropped a bag at this bin a moment ago.")


class OutOfRange(DomainError):
    code = "out_of_range"
    message = _("You are too far from this bin.")


class CoordinatesRequired(DomainError):
    code = "coordinates_required"
    message = _(
        "This district needs the phone's position (lat and lng) with every drop at a bin with a known place."
    )


class DailyLimit(DomainError):
    code = "daily_limit"
    message = _("You have reached today's limit of drops.")


class PhotoLimit(DomainError):
    code = "photo_limit"
    message = _("You have sent too many photos this hour; send the drop without one.")


class BadImage(DomainError):
    code = "bad_image"
    message = _("The photo is not a usable JPEG, PNG or WebP image.")


class AlreadyGraded(DomainError):
    code = "already_graded"
    message = _("This drop has already been graded.")


class NoHousehold(DomainError):
    code = "no_household"
    message = _("Join a household before recording drops.")


# A sheet with no labels on it is a mistake to report, not an empty PDF to print.
class NoActiveBins(InvalidInput):
    code = "invalid"
    message = _("No active bins in that community (or it is outside your scope).")


# The drop exists and is visible, but was recorded without a photo (or its file is gone).
class NoPhoto(NotFound):
    code = "not_found"
    message = _("This drop has no photo.")


# A blind re-inspection is worth something only when another inspector gives it.
class SameInspector(DomainError):
    code = "same_inspector"
    message = _("A drop is re-inspected by an inspector other than the one who first graded it.")


class NothingToSample(DomainError):
    code = "nothing_to_sample"
    message = _("No drop graded by an inspector in this district and period is left to sample.")
