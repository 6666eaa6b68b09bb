from django.utils.translation import gettext_lazy as _

from backend.errors import DomainError


class AlreadyCorrected(DomainError):
    code = "already_corrected"
    message = _("This collection has already been corrected.")


class NotCorrectable(DomainError):
    code = "not_correctable"
    message = _("A reversing record cannot itself be corrected; correct the replacement instead.")


class DuplicateReference(DomainError):
    code = "duplicate_reference"
    message = _(
        "This weighbridge ticket was already recorded for the plant (or, without a plant, the district)."
    )


class FutureDate(DomainError):
    code = "future_date"
    message = _("A collection cannot be dated in the future.")


class BadCsv(DomainError):
    code = "bad_csv"
    message = _("The file is not a readable CSV with the expected columns.")


class BadPeriod(DomainError):
    code = "bad_period"
    message = _("The period is not valid: give from and to as YYYY-MM-DD with from <= to.")


class BadTarget(DomainError):
    code = "bad_target"
    message = _("A target is a share between 0 and 1 (0 % to 100 %).")


class UnknownIndicator(DomainError):
    code = "unknown_indicator"
    message = _("There is no indicator with that code.")


class CityRequired(DomainError):
    code = "city_required"
    message = _("Name the city the target is for.")


class UnknownCity(DomainError):
    code = "unknown_city"
    message = _("There is no such city.")


class PlantOutOfDistrict(DomainError):
    code = "plant_out_of_district"
    message = _("The plant does not serve that district.")


class PlantDestinationMismatch(DomainError):
    code = "plant_destination_mismatch"
    message = _("The plant does not receive waste for that destination.")


class PickupAlreadyReceived(DomainError):
    code = "pickup_already_received"
    message = _("A pickup on this ticket was already received on another ticket.")


class PickupNotInDistrict(DomainError):
    code = "pickup_not_in_district"
    message = _("A pickup on this ticket is not from a kiosk of the district.")


class ManifestReused(DomainError):
    code = "manifest_reused"
    message = _("This transfer manifest number is already in use.")


class HandlerNotLicensed(DomainError):
    code = "handler_not_licensed"
    message = _("Hazardous waste goes only to a plant for hazardous treatment with a licence number.")


class ManifestClosed(DomainError):
    code = "manifest_closed"
    message = _("This manifest is closed already.")


class PickupAlreadyOnManifest(DomainError):
    code = "pickup_already_on_manifest"
    message = _("A pickup on this manifest travels on another manifest already.")


class HandoverOutOfOrder(DomainError):
    code = "handover_out_of_order"
    message = _("A hand-over cannot be earlier than the one before it, or in the future.")


class HandoverWeight(DomainError):
    code = "handover_weight"
    message = _("A hand-over weighs more than zero grams and less than 10,000 t.")
