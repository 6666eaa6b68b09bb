"""Collections (the tonnage staff and weighbridges record), district settings and the rollup tables.

Collections are append-only: a correction is a new row that reverses an old one (negative weight),
optionally followed by a replacement, so the history of what was reported stays readable.
Rollup tables are derived data: `refresh_rollups` keeps them in step with the raw events and
`verify_rollups` proves they equal a recount.
"""

from django.conf import settings
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


class Collection(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("entered by staff")
        IMPORT = "import", _("weighbridge import")
        CORRECTION = "correction", _("correction")

    district = models.ForeignKey("geo.District", on_delete=models.PROTECT, related_name="collections")
    community = models.ForeignKey(
        "geo.Community", on_delete=models.PROTECT, null=True, blank=True, related_name="collections"
    )
    category = models.CharField(_("category"), max_length=16, choices=WasteCategory.choices)
    # Grams, like every weight in GreenLoop; a reversing record carries the negated weight.
    weight_g = models.BigIntegerField(_("weight (g)"))
    date = models.DateField(_("date"))
    destination = models.CharField(_("destination"), max_length=24, choices=Destination.choices)
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
            # A weighbridge ticket imported twice would count its tonnage twice.
            models.UniqueConstraint(
                fields=["district", "reference"],
                condition=Q(source="import") & ~Q(reference=""),
                name="collection_import_reference_once",
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.district_id} {self.category}->{self.destination} {self.weight_g} g"


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


class DistrictDayRow(models.Model):
    """A rollup row of one day in one district."""

    day = models.DateField()
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+")

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
        indexes = [models.Index(fields=["district", "day"], name="deposit_daily_district_day")]


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


class ParticipationCount(models.Model):
    """Distinct participating households of a community in one calendar day, week, month or year.

    Exact for whole buckets (a household belongs to one community, so communities add up); a period
    that is not a whole bucket is counted from HouseholdMonth instead.
    """

    class Kind(models.TextChoices):
        DAY = "day"
        WEEK = "week"
        MONTH = "month"
        YEAR = "year"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    start = models.DateField()
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("geo.Community", on_delete=models.CASCADE, related_name="+")
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
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("geo.Community", on_delete=models.CASCADE, related_name="+")
    days = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "month", "household_id"], name="household_month_key")
        ]
        indexes = [
            models.Index(
                fields=["district", "month", "household_id", "days"], name="household_month_district"
            ),
            models.Index(fields=["household_id", "month"], name="household_month_household"),
        ]

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
    district = models.ForeignKey("geo.District", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("geo.Community", on_delete=models.CASCADE, related_name="+")
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
