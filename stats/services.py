"""Write use cases of statistics: recording, correcting and importing collections, district settings."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import OutOfScope
from accounts.models import Role, User
from accounts.selectors import can_manage_district
from backend.categories import WasteCategory
from backend.errors import InvalidInput, NotFound
from geo.models import City, District
from kiosks.models import Pickup, PickupLine

from . import indicators, periods, rate, weighbridge
from .errors import (
    AlreadyCorrected,
    BadTarget,
    CityRequired,
    DuplicateReference,
    FutureDate,
    HandlerNotLicensed,
    HandoverOutOfOrder,
    HandoverWeight,
    ManifestClosed,
    ManifestReused,
    NotCorrectable,
    PickupAlreadyOnManifest,
    PickupAlreadyReceived,
    PickupNotInDistrict,
    PlantDestinationMismatch,
    PlantOutOfDistrict,
    UnknownCity,
    UnknownIndicator,
)
from .models import (
    Collection,
    CollectionDaily,
    CollectionPickup,
    CustodyHandover,
    Destination,
    DistrictStatsSettings,
    HazardousManifest,
    IndicatorTarget,
    ManifestPickup,
    Plant,
)
from .rollups.rebuild import rebuild
from .values import CollectionValues

MAX_COLLECTION_G = 10_000_000_000  # 10,000 t in one record is a typo, not a weighbridge ticket


def _check(actor: User, values: CollectionValues) -> None:
    if not can_manage_district(actor, values.district):
        raise OutOfScope()
    if values.community is not None and values.community.district_id != values.district.id:
        raise InvalidInput(
            _("The community is not in that district."),
            fields={"community_id": [_("The community is not in that district.")]},
        )
    if not 0 < values.weight_g <= MAX_COLLECTION_G:
        raise InvalidInput(
            _("The weight must be positive and plausible."),
            fields={"weight_kg": [_("The weight must be positive and plausible.")]},
        )
    if values.date > periods.today():
        raise FutureDate(fields={"date": [_("A collection cannot be dated in the future.")]})
    if values.plant is not None:
        if values.plant.district_id != values.district.id:
            raise PlantOutOfDistrict(fields={"plant_id": [str(PlantOutOfDistrict.message)]})
        if values.plant.destination != values.destination:
            raise PlantDestinationMismatch(fields={"plant_id": [str(PlantDestinationMismatch.message)]})


def _roll(collection: Collection) -> None:
    """Add the row's weight to its daily rollup in the same transaction (an upsert, safe under races)."""
    rollup, created = CollectionDaily.objects.get_or_create(
        day=collection.date,
        district_id=collection.district_id,
        community_id=collection.community_id,
        category=collection.category,
        destination=collection.destination,
        defaults={"weight_g": collection.weight_g},
    )
    if not created:
        CollectionDaily.objects.filter(pk=rollup.pk).update(weight_g=F("weight_g") + collection.weight_g)
    weight = collection.weight_g
    recovered = (
        weight
        if rate.is_recovery(collection.category, collection.destination, incineration_counts=False)
        else 0
    )
    incinerated = weight if collection.destination == Destination.INCINERATION else 0
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO stats_districtday (day, district_id, collected_g, collected_recovered_g, incinerated_g,
                                              deposited_g, deposit_recovered_g)
               VALUES (%s, %s, %s, %s, %s, 0, 0)
               ON CONFLICT (district_id, day) DO UPDATE SET
                   collected_g = stats_districtday.collected_g + EXCLUDED.collected_g,
                   collected_recovered_g = stats_districtday.collected_recovered_g + EXCLUDED.collected_recovered_g,
                   incinerated_g = stats_districtday.incinerated_g + EXCLUDED.incinerated_g""",
            [collection.date, collection.district_id, weight, recovered, incinerated],
        )
        cursor.execute(
            """INSERT INTO stats_districtcollectionmonthly (month, district_id, category, destination, weight_g)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (district_id, month, category, destination) DO UPDATE SET
                   weight_g = stats_districtcollectionmonthly.weight_g + EXCLUDED.weight_g""",
            [
                collection.date.replace(day=1),
                collection.district_id,
                collection.category,
                collection.destination,
                weight,
            ],
        )
        cursor.execute(
            """INSERT INTO stats_districtindicatorday (day, district_id, sums) VALUES (%s, %s, %s)
               ON CONFLICT (district_id, day) DO UPDATE SET sums = ARRAY(
                   SELECT u.a + u.b FROM unnest(stats_districtindicatorday.sums, EXCLUDED.sums)
                       WITH ORDINALITY AS u(a, b, i) ORDER BY u.i)""",
            [
                collection.date,
                collection.district_id,
                indicators.contribution(
                    indicators.COLLECTION, collection.category, collection.destination, collection.weight_g
                ),
            ],
        )


def _insert(actor: User, values: CollectionValues, **extra) -> Collection:
    collection = Collection.objects.create(
        district=values.district,
        community=values.community,
        category=values.category,
        weight_g=values.weight_g,
        date=values.date,
        destination=values.destination,
        reference=values.reference,
        note=values.note,
        recorded_by=actor,
        plant=values.plant,
        **extra,
    )
    _link_pickups(collection, values)
    _roll(collection)
    return collection


# Constraint names whose violation means "this ticket was already recorded".
DUPLICATE_TICKET = ("collection_ticket_once_per_plant", "collection_reference_once_per_district")


def _link_pickups(collection: Collection, values: CollectionValues) -> None:
    """The kiosk pickups this ticket received: from the district's kiosks, each on one ticket only."""
    if not values.pickup_ids:
        return
    pickups = list(
        Pickup.objects.filter(
            pk__in=values.pickup_ids, kiosk__community__district=values.district
        ).values_list("pk", flat=True)
    )
    if len(pickups) != len(set(values.pickup_ids)):
        raise PickupNotInDistrict(fields={"pickup_ids": [str(PickupNotInDistrict.message)]})
    try:
        with transaction.atomic():
            CollectionPickup.objects.bulk_create(
                CollectionPickup(collection=collection, pickup_id=p) for p in pickups
            )
    except IntegrityError as exc:
        raise PickupAlreadyReceived(fields={"pickup_ids": [str(PickupAlreadyReceived.message)]}) from exc


def record_collection(
    *, actor: User, values: CollectionValues, source: str = Collection.Source.MANUAL
) -> Collection:
    _check(actor, values)
    try:
        with transaction.atomic():
            return _insert(actor, values, source=source)
    except IntegrityError as exc:
        if any(name in str(exc) for name in DUPLICATE_TICKET):
            raise DuplicateReference(fields={"reference": [str(DuplicateReference.message)]}) from exc
        raise


@dataclass(frozen=True)
class Correction:
    reversal: Collection
    replacement: Collection | None


def correct_collection(
    *, actor: User, collection_id: int, replacement: CollectionValues | None, note: str = ""
) -> Correction:
    """Reverse a collection with a negated record and optionally record what it should have been."""
    with transaction.atomic():
        original = (
            Collection.objects.select_for_update().select_related("district").filter(pk=collection_id).first()
        )
        if original is None or not can_manage_district(actor, original.district):
            raise NotFound(_("No such collection."))
        if original.reverses_id is not None:
            raise NotCorrectable()
        if Collection.objects.filter(reverses=original).exists():
            raise AlreadyCorrected()
        reversal = _insert(
            actor,
            CollectionValues(
                district=original.district,
                community=original.community,
                category=original.category,
                weight_g=-original.weight_g,
                date=original.date,
                destination=original.destination,
                reference=original.reference,
                note=note or _("correction"),
                plant=original.plant,
            ),
            source=Collection.Source.CORRECTION,
            reverses=original,
        )
        # A reversed ticket received nothing: its pickups are free for the replacement to carry.
        CollectionPickup.objects.filter(collection=original).delete()
        new = None
        if replacement is not None:
            _check(actor, replacement)
            new = _insert(actor, replacement, source=Collection.Source.CORRECTION, replaces=original)
        return Correction(reversal, new)


def set_incineration_counts(*, actor: User, district: District, value: bool) -> DistrictStatsSettings:
    if not can_manage_district(actor, district):
        raise OutOfScope()
    settings, _created = DistrictStatsSettings.objects.update_or_create(
        district=district, defaults={"incineration_counts_as_recovery": value}
    )
    return settings


@dataclass
class ImportResult:
    created: list[Collection] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def import_collections(*, actor: User, data: bytes) -> ImportResult:
    """Record each row of a weighbridge CSV in its own transaction: one bad row never sinks the file."""
    result = ImportResult()
    for row in weighbridge.parse(data):
        if row.errors:
            result.errors.append({"line": row.line, "code": "invalid", "fields": row.errors})
            continue
        try:
            result.created.append(
                record_collection(actor=actor, values=row.values, source=Collection.Source.IMPORT)
            )
        except (
            OutOfScope,
            InvalidInput,
            FutureDate,
            DuplicateReference,
            PlantOutOfDistrict,
            PlantDestinationMismatch,
        ) as exc:
            entry = {"line": row.line, "code": exc.code, "message": str(exc.message)}
            if exc.fields:
                entry["fields"] = exc.fields
            result.errors.append(entry)
    return result


# ---- indicator targets -----------------------------------------------------------------------


def _target_city(actor: User, city_id: int | None) -> City:
    """The city a target is for: a city officer's own (another is out of scope); an admin names one."""
    if city_id is None:
        city_id = actor.city_id
        if city_id is None:
            raise CityRequired(fields={"city_id": [str(CityRequired.message)]})
    city = City.objects.filter(pk=city_id).first()
    if city is None:
        raise UnknownCity(fields={"city_id": [str(UnknownCity.message)]})
    admin = actor.is_superuser or actor.role == Role.ADMIN
    city_officer = actor.role == Role.CITY_OFFICER and actor.city_id in (None, city.id)
    if not (admin or city_officer):
        raise OutOfScope()
    return city


def _indicator(code: str) -> indicators.Indicator:
    if code not in indicators.INDICATORS:
        raise UnknownIndicator()
    return indicators.INDICATORS[code]


def set_indicator_target(
    *, actor: User, indicator_code: str, year: int, target: Decimal, city_id: int | None = None
) -> IndicatorTarget:
    """Set (or replace) a city's target for one indicator and year; a share, 0 to 1."""
    _indicator(indicator_code)
    if not Decimal(0) <= target <= Decimal(1):
        raise BadTarget(fields={"target": [str(BadTarget.message)]})
    city = _target_city(actor, city_id)
    saved, _created = IndicatorTarget.objects.update_or_create(
        city=city, indicator=indicator_code, year=year, defaults={"target": target, "updated_by": actor}
    )
    return saved


def clear_indicator_target(
    *, actor: User, indicator_code: str, year: int, city_id: int | None = None
) -> bool:
    """Remove a city's own target (the national figure applies again); False when there was none."""
    _indicator(indicator_code)
    city = _target_city(actor, city_id)
    deleted, _rows = IndicatorTarget.objects.filter(city=city, indicator=indicator_code, year=year).delete()
    return bool(deleted)


# ---- destination plants ------------------------------------------------------------------------


def create_plant(*, actor: User, district: District, name: str, destination: str, licence: str = "") -> Plant:
    if not can_manage_district(actor, district):
        raise OutOfScope()
    plant, _created = Plant.objects.get_or_create(
        district=district, name=name, defaults={"destination": destination, "licence": licence}
    )
    return plant


def rebuild_rollups():
    """Every rollup from scratch (`refresh_rollups --full`), for bulk loads such as the demo history."""
    return rebuild()


# ---- hazardous waste: transfer manifests (转移联单) -------------------------------------------------


# A hand-over further than this from the weight before it is kept as weighed and flagged.
CUSTODY_TOLERANCE = settings.PICKUP_TOLERANCE
# A hand-over a few minutes ahead of the server is a clock, not a forgery.
CUSTODY_CLOCK_SKEW = timedelta(minutes=5)


def _off_tolerance(weight_g: int, previous_g: int | None) -> bool:
    if previous_g is None:
        return False
    return abs(weight_g - previous_g) > CUSTODY_TOLERANCE * previous_g if previous_g else weight_g > 0


def _check_handover_weight(weight_g: int) -> None:
    if not 0 < weight_g <= MAX_COLLECTION_G:
        raise HandoverWeight(fields={"weight_kg": [str(HandoverWeight.message)]})


def _hazardous_picked_up_g(pickup_ids: list[int]) -> int | None:
    """What the collectors weighed of the pickups' hazardous materials: the stage before the first hand-over."""
    if not pickup_ids:
        return None
    total = PickupLine.objects.filter(
        pickup_id__in=pickup_ids, material__category=WasteCategory.HAZARDOUS
    ).aggregate(total=Sum("weight_g"))["total"]
    return int(total or 0)


def open_manifest(
    *,
    actor: User,
    district: District,
    handler: Plant,
    number: str,
    handed_over_g: int,
    handed_over_at,
    pickup_ids: tuple[int, ...] = (),
    holder: str = "",
) -> HazardousManifest:
    """Hand hazardous waste to a licensed handler on a manifest number used once, with the pickups it
    came from; its custody chain starts with this hand-over (weighed against the pickups' lines)."""
    if not can_manage_district(actor, district):
        raise OutOfScope()
    if handler.district_id != district.id:
        raise PlantOutOfDistrict(fields={"handler_id": [str(PlantOutOfDistrict.message)]})
    if handler.destination != Destination.HAZARDOUS_TREATMENT or not handler.licence:
        raise HandlerNotLicensed(fields={"handler_id": [str(HandlerNotLicensed.message)]})
    _check_handover_weight(handed_over_g)
    if handed_over_at > timezone.now() + CUSTODY_CLOCK_SKEW:
        raise HandoverOutOfOrder(fields={"handed_over_at": [str(HandoverOutOfOrder.message)]})
    pickups = list(
        Pickup.objects.filter(pk__in=pickup_ids, kiosk__community__district=district).values_list(
            "pk", flat=True
        )
    )
    if len(pickups) != len(set(pickup_ids)):
        raise PickupNotInDistrict(fields={"pickup_ids": [str(PickupNotInDistrict.message)]})
    picked_up_g = _hazardous_picked_up_g(pickups)
    # One transaction: a reused number or a pickup on another manifest leaves nothing behind.
    with transaction.atomic():
        try:
            with transaction.atomic():
                manifest = HazardousManifest.objects.create(
                    number=number,
                    district=district,
                    handler=handler,
                    handed_over_g=handed_over_g,
                    handed_over_at=handed_over_at,
                    recorded_by=actor,
                )
        except IntegrityError as exc:
            raise ManifestReused(fields={"number": [str(ManifestReused.message)]}) from exc
        try:
            with transaction.atomic():
                ManifestPickup.objects.bulk_create(
                    ManifestPickup(manifest=manifest, pickup_id=p) for p in pickups
                )
        except IntegrityError as exc:
            raise PickupAlreadyOnManifest(
                fields={"pickup_ids": [str(PickupAlreadyOnManifest.message)]}
            ) from exc
        CustodyHandover.objects.create(
            manifest=manifest,
            sequence=1,
            stage=CustodyHandover.Stage.PICKUP,
            holder=(holder or str(actor))[:100],
            weight_g=handed_over_g,
            previous_g=picked_up_g,
            flagged=_off_tolerance(handed_over_g, picked_up_g),
            handed_over_at=handed_over_at,
            recorded_by=actor,
        )
    return manifest


def _locked_open_manifest(actor: User, manifest_id: int) -> tuple[HazardousManifest, CustodyHandover | None]:
    manifest = (
        HazardousManifest.objects.select_for_update()
        .select_related("district", "handler")
        .filter(pk=manifest_id)
        .first()
    )
    if manifest is None or not can_manage_district(actor, manifest.district):
        raise NotFound()
    if manifest.closed_at is not None:
        raise ManifestClosed()
    return manifest, manifest.handovers.order_by("-sequence").first()


def _next_handover(
    manifest: HazardousManifest,
    last: CustodyHandover | None,
    *,
    actor: User,
    stage: str,
    holder: str,
    weight_g: int,
    handed_over_at,
) -> CustodyHandover:
    previous_g = last.weight_g if last else manifest.handed_over_g
    return CustodyHandover.objects.create(
        manifest=manifest,
        sequence=(last.sequence if last else 0) + 1,
        stage=stage,
        holder=holder[:100],
        weight_g=weight_g,
        previous_g=previous_g,
        flagged=_off_tolerance(weight_g, previous_g),
        handed_over_at=handed_over_at,
        recorded_by=actor,
    )


def record_handover(
    *, actor: User, manifest_id: int, holder: str, weight_g: int, handed_over_at
) -> CustodyHandover:
    """The batch changed hands on its way (a transfer station): weighed again, flagged if off tolerance."""
    _check_handover_weight(weight_g)
    with transaction.atomic():
        manifest, last = _locked_open_manifest(actor, manifest_id)
        if handed_over_at > timezone.now() + CUSTODY_CLOCK_SKEW or (
            last is not None and handed_over_at < last.handed_over_at
        ):
            raise HandoverOutOfOrder(fields={"handed_over_at": [str(HandoverOutOfOrder.message)]})
        return _next_handover(
            manifest,
            last,
            actor=actor,
            stage=CustodyHandover.Stage.TRANSFER,
            holder=holder,
            weight_g=weight_g,
            handed_over_at=handed_over_at,
        )


def close_manifest(*, actor: User, manifest_id: int, received_g: int, received_on) -> HazardousManifest:
    """The handler confirmed receipt: the last hand-over, and the ticket that counts at the destination."""
    _check_handover_weight(received_g)
    with transaction.atomic():
        manifest, last = _locked_open_manifest(actor, manifest_id)
        ticket = record_collection(
            actor=actor,
            values=CollectionValues(
                district=manifest.district,
                category=str(WasteCategory.HAZARDOUS),
                weight_g=received_g,
                date=received_on,
                destination=Destination.HAZARDOUS_TREATMENT,
                plant=manifest.handler,
                reference=manifest.number,
            ),
        )
        now = timezone.now()
        _next_handover(
            manifest,
            last,
            actor=actor,
            stage=CustodyHandover.Stage.HANDLER,
            holder=manifest.handler.name,
            weight_g=received_g,
            handed_over_at=max(now, last.handed_over_at) if last else now,
        )
        manifest.received_g = received_g
        manifest.closed_at = now
        manifest.collection = ticket
        manifest.save(update_fields=["received_g", "closed_at", "collection"])
        return manifest
