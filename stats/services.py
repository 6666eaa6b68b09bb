"""Write use cases of statistics: recording, correcting and importing collections, district settings."""

from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.errors import OutOfScope
from accounts.models import User
from accounts.selectors import can_manage_district
from backend.errors import InvalidInput, NotFound
from geo.models import District

from . import periods, rate, weighbridge
from .errors import AlreadyCorrected, DuplicateReference, FutureDate, NotCorrectable
from .models import Collection, CollectionDaily, Destination, DistrictStatsSettings
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
        **extra,
    )
    _roll(collection)
    return collection


def record_collection(
    *, actor: User, values: CollectionValues, source: str = Collection.Source.MANUAL
) -> Collection:
    _check(actor, values)
    try:
        with transaction.atomic():
            return _insert(actor, values, source=source)
    except IntegrityError as exc:
        if "collection_import_reference_once" in str(exc):
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
            ),
            source=Collection.Source.CORRECTION,
            reverses=original,
        )
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
        except (OutOfScope, InvalidInput, FutureDate, DuplicateReference) as exc:
            entry = {"line": row.line, "code": exc.code, "message": str(exc.message)}
            if exc.fields:
                entry["fields"] = exc.fields
            result.errors.append(entry)
    return result
