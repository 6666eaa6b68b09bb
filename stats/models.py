"""Collections (the tonnage staff and weighbridges record), district settings and the rollup tables.

Collections are append-only: a correction is a new row that reverses an old one (negative weight),
optionally followed by a replacement, so the history of what was reported stays readable.
Rollup tables are derived data: `refresh_rollups` keeps them in step with the raw events and
`verify_rollups` proves they equal a recount.
"""

from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.categories import WasteCategory


class Destination(models.TextChoices):
    RECYCLING = "recycling", _("recycling")
    COMPOSTING = "composting", _("composting")
    ANAEROBIC_DIGESTION = "anaerobic_digestion", _("anaerobic digestion")
    INCINERATION = "incineration", _("incineration")
    LANDFILL = "landfill", _("landfill")
    HAZARDOUS_TREATMENT = "hazardous_treatment", _("licensed hazardous waste treatment")


class Plant(models.Model):
    """Where collected waste is received and weighed: a recycler, composting or digestion plant,
    incinerator, landfill or licensed hazardous waste handler, serving one district."""

    district = models.ForeignKey("geo.District", on_delete=models.PROTECT, related_name="plants")
    name = models.CharField(_("name"), max_length=100)
    destination = models.CharField(_("destination"), max_length=24, choices=Destination.choices)
    licence = models.CharField(_("licence number"), max_length=64, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("destination plant")
        verbose_name_plural = _("destination plants")
        ordering = ["district", "name"]
        constraints = [models.UniqueConstraint(fields=["district", "name"], name="plant_name_per_district")]

    def __str__(self):
        return self.name


class Collection(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("entered by staff")
        IMPORT = "import", _("weighbridge import")
        CORRECTION = "correction", _("correction")
        BACKFILL = "backfill", _("kiosk deposits before pickups were recorded")

    district = models.ForeignKey("geo.District", on_delete=models.PROTECT, related_name="collections")
    community = models.ForeignKey(
        "geo.Community", on_delete=models.PROTECT, null=True, blank=True, related_name="collections"
    )
    category = models.CharField(_("category"), max_length=16, choices=WasteCategory.choices)
    # Grams, like every weight in GreenLoop; a reversing record carries the negated weight.
    weight_g = models.BigIntegerField(_("weight (g)"))
    date = models.DateField(_("date"))
    destination = models.CharField(_("destination"), max_length=24, choices=Destination.choices)
    # The plant whose weighbridge issued the ticket (`reference`); blank on records from before plants.
    plant = models.ForeignKey(
        Plant, on_delete=models.PROTECT, null=True, blank=True, related_name="collections"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("collection")
        verbose_name_plural = _("collections")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["district", "date"], name="collection_district_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, weight_g__gt=0)
                | Q(reverses__isnull=False, weight_g__lt=0),
                name="collection_sign_matches_reversal",
            ),
            # A weighbridge ticket recorded twice would count its tonnage twice: once per plant on
            # every write path (a correction's reversal and replacement carry the ticket they correct).
            models.UniqueConstraint(
                fields=["plant", "reference"],
                condition=Q(reverses__isnull=True, replaces__isnull=True, plant__isnull=False)
                & ~Q(reference=""),
                name="collection_ticket_once_per_plant",
            ),
            models.UniqueConstraint(
                fields=["district", "reference"],
                condition=Q(reverses__isnull=True, replaces__isnull=True, plant__isnull=True)
                & ~Q(reference=""),
                name="collection_reference_once_per_district",
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.district_id} {self.category}->{self.destination} {self.weight_g} g"


class CollectionPickup(models.Model):
    """A kiosk pickup received at the destination on this ticket: a pickup feeds one ticket only."""

    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="pickup_links")
    pickup = models.OneToOneField("kiosks.Pickup", on_delete=models.PROTECT, related_name="receipt")

    def __str__(self):
        return f"{self.pickup_id} -> {self.collection_id}"


class HazardousManifest(models.Model):
    """A transfer manifest (转移联单): hazardous waste handed to a licensed handler, followed until it closes.

    It holds the weight handed over and, once the handler confirms receipt, the weight received; the
    receipt is recorded as the ticket (`collection`) that counts at the destination.
    """

    number = models.CharField(_("manifest number"), max_length=64, unique=True)
    district = models.ForeignKey("geo.District", on_delete=models.PROTECT, related_name="+")
    handler = models.ForeignKey(Plant, on_delete=models.PROTECT, related_name="manifests")
    handed_over_g = models.BigIntegerField(_("weight handed over (g)"))
    handed_over_at = models.DateTimeField()
    received_g = models.BigIntegerField(_("weight received (g)"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    collection = models.OneToOneField(
        Collection, on_delete=models.PROTECT, null=True, blank=True, related_name="manifest"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("hazardous waste manifest")
        verbose_name_plural = _("hazardous waste manifests")
        constraints = [
            models.CheckConstraint(condition=Q(handed_over_g__gt=0), name="manifest_handed_over_positive"),
            models.CheckConstraint(
                condition=Q(received_g__isnull=True) | Q(received_g__gt=0), name="manifest_received_positive"
            ),
        ]

    def __str__(self):
        return self.number


class CustodyHandover(models.Model):
    """One hand-over of a hazardous batch on its way to the handler: who took it, when, and what it weighed.

    The chain starts at the pickup (the weight handed over when the manifest opened), may pass
    transfer stations, and ends at the licensed handler (the weight received when it closed). A
    hand-over further than the tolerance from the one before is kept as weighed and flagged.
    """

    class Stage(models.TextChoices):
        PICKUP = "pickup", _("picked up")
        TRANSFER = "transfer", _("transfer station")
        HANDLER = "handler", _("licensed handler")

    manifest = models.ForeignKey(HazardousManifest, on_delete=models.PROTECT, related_name="handovers")
    sequence = models.PositiveSmallIntegerField()
    stage = models.CharField(max_length=8, choices=Stage.choices)
    holder = models.CharField(_("taken over by"), max_length=100)
    weight_g = models.BigIntegerField(_("weight (g)"))
    # What the stage before weighed (for the pickup: what the kiosks recorded), kept beside the flag.
    previous_g = models.BigIntegerField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    handed_over_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("custody hand-over")
        verbose_name_plural = _("custody hand-overs")
        ordering = ["manifest", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["manifest", "sequence"], name="handover_sequence_once"),
            models.CheckConstraint(condition=Q(weight_g__gt=0), name="handover_weight_positive"),
        ]

    def __str__(self):
        return f"{self.manifest_id}#{self.sequence} {self.stage} {self.weight_g} g"


class ManifestPickup(models.Model):
    """A kiosk pickup's hazardous items travelling on a manifest: on one manifest only."""

    manifest = models.ForeignKey(HazardousManifest, on_delete=models.PROTECT, related_name="pickup_links")
    pickup = models.OneToOneField("kiosks.Pickup", on_delete=models.PROTECT, related_name="manifest_link")

    def __str__(self):
        return f"{self.pickup_id} -> {self.manifest_id}"


class DistrictStatsSettings(models.Model):
    district = models.OneToOneField("geo.District", on_delete=models.CASCADE, related_name="stats_settings")
    # Off by default: national guidance counts incineration with energy recovery as disposal.
    incineration_counts_as_recovery = models.BooleanField(
        _("incineration with energy recovery counts as recovery"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("district statistics settings")
        verbose_name_plural = _("district statistics settings")

    def __str__(self):
        return f"settings of {self.district_id}"


def _indicator_choices():
    from .indicators import CHOICES

    return CHOICES


class IndicatorTarget(models.Model):
    """A city's target for one indicator and year (a share, 0..1); national figures apply where none is set."""

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+", verbose_name=_("city"))
    indicator = models.CharField(_("indicator"), max_length=32, choices=_indicator_choices)
    year = models.PositiveSmallIntegerField(_("year"))
    target = models.DecimalField(_("target (share, 0 to 1)"), max_digits=5, decimal_places=4)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        ordering = ["city", "indicator", "year"]
        constraints = [
            models.UniqueConstraint(fields=["city", "indicator", "year"], name="indicator_target_once"),
            models.CheckConstraint(condition=Q(target__gte=0, target__lte=1), name="indicator_target_share"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="indicator_target_year"),
        ]

    def __str__(self):
        return f"{self.city_id} {self.indicator} {self.year}: {self.target}"


# ---- rollups (derived, rebuilt by refresh_rollups, proved by verify_rollups) ----------------------


class CollectionDaily(models.Model):
    """Collected weight per day, district, community (or none), category and destination.

    Written in the same transaction as the collection row, so collections are never stale.
    """

    day = models.DateField()
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "geo.Community", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    category = models.CharField(max_length=16)
    destination = models.CharField(max_length=24)
    weight_g = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "district", "community", "category", "destination"],
                name="collection_daily_key",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["district", "day"], name="collection_daily_district_day")]

    def __str__(self):
        return f"{self.day} {self.community_id or self.district_id} {self.category}->{self.destination}"


# Rollups the refresh rewrites every round carry no index of their own on a place column that a key
# or index already leads with: each one was another random page written per recomputed row.
class DistrictDayRow(models.Model):
    """A rollup row of one day in one district (every such table has a key or index led by district)."""

    day = models.DateField()
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        abstract = True


class CommunityDayRow(DistrictDayRow):
    """A rollup row of one day in one community (the district is kept for district-wide reads)."""

    community = models.ForeignKey("geo.Community", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class DropCounts(models.Model):
    category = models.CharField(max_length=16)
    drops = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    verdicts = models.IntegerField(default=0)
    correct = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.day} {self.category}: {self.drops}"


class DepositWeights(models.Model):
    material = models.CharField(max_length=32)
    category = models.CharField(max_length=16)
    deposits = models.IntegerField(default=0)
    weight_g = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.day} {self.material}: {self.weight_g} g"


class DropDaily(CommunityDayRow, DropCounts):
    """Drops per Asia/Shanghai day, community and bin category."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "community", "category"], name="drop_daily_key")
        ]
        indexes = [models.Index(fields=["district", "day"], name="drop_daily_district_day")]


class DepositDaily(CommunityDayRow, DepositWeights):
    """Kiosk deposits per Asia/Shanghai day of `occurred_at`, community and material."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "community", "material"], name="deposit_daily_key")
        ]
        indexes = [
            # Also what reads of a district's days use (it leads with district and day).
            # CO2e avoided per community sums a district's period by community and material: from the
            # index alone, not the heap pages a district's days are spread over.
            models.Index(
                fields=["district", "day", "community", "material"],
                name="deposit_daily_by_material",
                include=["weight_g"],
            ),
        ]


class CommunityDaily(CommunityDayRow):
    """A community's totals per day (all categories and materials): what the community breakdown reads."""

    drops = models.IntegerField(default=0)
    verdicts = models.IntegerField(default=0)
    correct = models.IntegerField(default=0)
    deposits_g = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "day"], name="community_daily_key")]
        indexes = [models.Index(fields=["district", "day"], name="community_daily_district_day")]

    def __str__(self):
        return f"{self.day} {self.community_id}: {self.drops} drops, {self.deposits_g} g"


class DistrictDay(DistrictDayRow):
    """A district's weights per day, already split the way the rate needs them (see rate.py).

    Collection columns are written in the collection's own transaction; deposit columns by the
    rollup job. Incinerated weight is kept apart because the district setting decides at read time
    whether it counts as recovered.
    """

    collected_g = models.BigIntegerField(default=0)
    collected_recovered_g = models.BigIntegerField(default=0)
    incinerated_g = models.BigIntegerField(default=0)
    deposited_g = models.BigIntegerField(default=0)
    deposit_recovered_g = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "day"], name="district_day_key")]

    def __str__(self):
        return f"{self.day} {self.district_id}: {self.collected_g + self.deposited_g} g"


class DistrictIndicatorDay(DistrictDayRow):
    """Every indicator's sums of a district's day (see indicators.contribution), written in the
    collection's own transaction, so district and city figures read one row per day."""

    sums = ArrayField(models.BigIntegerField())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "day"], name="district_indicator_day_key")]

    def __str__(self):
        return f"{self.day} {self.district_id}"


class DistrictDropDaily(DistrictDayRow, DropCounts):
    """DropDaily summed over a district's communities: what district and city statistics read."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "day", "category"], name="district_drop_daily_key")
        ]


class DistrictDepositDaily(DistrictDayRow, DepositWeights):
    """DepositDaily summed over a district's communities."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "day", "material"], name="district_deposit_daily_key")
        ]


class DistrictMonthRow(models.Model):
    """A district's daily rollup summed over a calendar month (`month` is its first day): a period's
    whole months are read as a row each instead of a row per day (stats/monthly.py)."""

    month = models.DateField()
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.month:%Y-%m} {self.district_id}"


class DistrictDropMonthly(DistrictMonthRow, DropCounts):
    """DistrictDropDaily by month, moved by the same differences in the same round."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "month", "category"], name="district_drop_monthly_key"
            )
        ]


class DistrictDepositMonthly(DistrictMonthRow, DepositWeights):
    """DistrictDepositDaily by month, moved by the same differences in the same round."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "month", "material"], name="district_deposit_monthly_key"
            )
        ]


class CommunityDepositMonthly(DistrictMonthRow, DepositWeights):
    """DepositDaily by month: what a community breakdown's CO2e by material reads for whole months."""

    community = models.ForeignKey("geo.Community", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            # Led by district (a community's district never changes): the breakdown reads a district's
            # months, and the round's MERGE matches on the whole key, through one index.
            models.UniqueConstraint(
                fields=["district", "month", "community", "material"], name="community_deposit_monthly_key"
            )
        ]


class DistrictCollectionMonthly(DistrictMonthRow):
    """CollectionDaily by district and month, written in the collection's own transaction as it is."""

    category = models.CharField(max_length=16)
    destination = models.CharField(max_length=24)
    weight_g = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "month", "category", "destination"],
                name="district_collection_monthly_key",
            )
        ]


class ParticipationCount(models.Model):
    """Distinct participating households of a community in one calendar day, week, month or year.

    Exact for whole buckets (a household belongs to one community, so communities add up); a period
    that is not a whole bucket is counted from ParticipationStep (per district) or the households'
    day bits (HouseholdYear, HouseholdMonth; per community) instead.
    """

    class Kind(models.TextChoices):
        DAY = "day"
        WEEK = "week"
        MONTH = "month"
        YEAR = "year"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    start = models.DateField()
    # Led by its key (community) and index (district): no index of their own.
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+", db_index=False)
    community = models.ForeignKey("geo.Community", on_delete=models.CASCADE, related_name="+", db_index=False)
    households = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "kind", "start"], name="participation_count_key")
        ]
        indexes = [
            models.Index(fields=["district", "kind", "start"], name="participation_district"),
        ]

    def __str__(self):
        return f"{self.kind} {self.start} {self.community_id}: {self.households}"


class HouseholdMonth(models.Model):
    """Which days of a month a household took part: bit d-1 of `days` is set for day d.

    One row per household and month rather than per day keeps distinct-household counts over any
    period exact (mask the edge months) while reading about a twentieth of the rows.
    """

    month = models.DateField()
    household_id = models.BigIntegerField()
    # The district is read through the community; the community leads the key.
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+", db_index=False)
    community = models.ForeignKey("geo.Community", on_delete=models.CASCADE, related_name="+", db_index=False)
    days = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "month", "household_id"], name="household_month_key")
        ]
        # No index holds `days`, so the day a round ORs into a month is a heap-only update (the
        # table keeps room on its pages for it, stats.0014).
        indexes = [models.Index(fields=["household_id", "month"], name="household_month_household")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.household_id}: {self.days:b}"


class DayBits(models.Field):
    """A PostgreSQL bit(366): bit n-1 (from the left) is day n of the year."""

    description = "days of a year as a bit string"

    def db_type(self, connection):
        return "bit(366)"


class HouseholdYear(models.Model):
    """Which days of a year a household took part, for exact counts over any period inside a year."""

    year = models.IntegerField()
    household_id = models.BigIntegerField()
    # Led by its key (community) and index (district): no index of their own.
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+", db_index=False)
    community = models.ForeignKey("geo.Community", on_delete=models.CASCADE, related_name="+", db_index=False)
    days = DayBits()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "year", "household_id"], name="household_year_key")
        ]
        indexes = [
            models.Index(fields=["district", "year"], name="household_year_district"),
            models.Index(fields=["household_id", "year"], name="household_year_household"),
        ]

    def __str__(self):
        return f"{self.year} {self.household_id}"


class ParticipationStep(DistrictDayRow):
    """Households of a district out on a day, counted by the day each was last out before it
    (`previous`; FIRST for a household's first day).

    A household took part in a period a..b exactly when one of its days in a..b follows a day before
    a (or none), so the households of any period are the sum of the rows with day in a..b and
    previous < a: a read that grows with days and districts, not with households, for the periods
    that are not whole calendar buckets.
    """

    FIRST = date(1999, 12, 31)  # before any period (they start on 1 January 2000 at the earliest)

    previous = models.DateField()
    households = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "day", "previous"], name="participation_step_key", include=["households"]
            )
        ]

    def __str__(self):
        return f"{self.district_id} {self.day} after {self.previous}"


class CommunityHouseholds(models.Model):
    """Registered households per community, refreshed by the rollup job (a hot count otherwise)."""

    community = models.OneToOneField("geo.Community", on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+")
    households = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.community_id}: {self.households}"


class Watermark(models.Model):
    """How far `refresh_rollups` has read each event source."""

    source = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)
    # Ids below last_id not seen yet, with when the gap was first noticed: a transaction that took
    # its id early may commit late. Gaps are re-read by primary key until they expire.
    gaps = models.JSONField(default=dict, blank=True)
    last_changed_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.source}: id>{self.last_id}"
