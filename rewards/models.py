from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.categories import Destination, WasteCategory


class Account(models.Model):
    """A ledger account: one per resident, plus one system account of each system kind.

    Only resident balances live on the row (updated in the posting's transaction, never negative).
    System accounts take a posting on every credit; a balance column there would make one hot row that
    every deposit in the city queues on, so their balance is the sum of their postings.
    """

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("resident")
        ISSUANCE = "issuance", _("issuance")
        REDEMPTION = "redemption", _("redemption")
        EXPIRY = "expiry", _("expiry")
        ADJUSTMENT = "adjustment", _("adjustment")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_account",
    )
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="resident") | Q(balance__gte=0), name="resident_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="resident", owner__isnull=False)
                | Q(~Q(kind="resident"), owner__isnull=True),
                name="only_resident_accounts_have_owner",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=~Q(kind="resident"), name="one_system_account_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.kind}:{self.owner_id or '-'}"


class LedgerTransaction(models.Model):
    """One balanced change of points. Its idempotency key names its cause, so a cause posts at most once."""

    class Kind(models.TextChoices):
        SORTING = "sorting", _("sorting reward")
        DEPOSIT = "deposit", _("recycling deposit")
        REDEEM = "redeem", _("redemption")
        REFUND = "refund", _("refund")
        EXPIRY = "expiry", _("expiry")
        ADJUSTMENT = "adjustment", _("adjustment")
        REVERSAL = "reversal", _("reversal")

    # Unique through a constraint rather than unique=True, which would add a second (LIKE) index that
    # no query reads and every credit writes.
    idempotency_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The memo as written, in the site's default language; readers get `memo_key` rendered in theirs.
    memo = models.CharField(max_length=200, blank=True)
    memo_key = models.CharField(max_length=40, blank=True, db_default="")
    memo_params = models.JSONField(null=True, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="ledger_transaction_once")]

    def __str__(self):
        return self.idempotency_key


class Memo(models.TextChoices):
    """What a ledger memo says, rendered in the reader's language from the transaction's memo_params."""

    SORTING = "sorting", _("Sorted at %(bin)s")
    DEPOSIT = "deposit", _("%(material)s, %(weight_g)s g")
    DEPOSIT_CARBON = (
        "deposit_carbon",
        _("%(material)s, %(weight_g)s g: carbon points for %(co2e_g)s g CO2e avoided"),
    )
    REDEEM = "redeem", _("Redeemed: %(reward)s")
    WELCOME = "welcome", _("Welcome points")


class Posting(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="postings")
    # No index of its own: posting_account_feed leads with it, and every credit writes two postings.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings", db_index=False)
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-id"], name="posting_account_feed")]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_not_zero")]

    def __str__(self):
        return f"{self.account_id}: {self.amount:+d}"


def rules_epoch() -> datetime:
    """Where the first version of a city's rules starts: before any drop or deposit could have happened."""
    return datetime(1970, 1, 1, tzinfo=UTC)


class Material(models.Model):
    """What a kiosk weighs: data, not an enum, so a city can add materials.

    A material without a city belongs to the reference catalog every city shares; one with a city was
    added by that city and exists for no other. What a material earns is not here but in each city's
    versioned point rules (`PointRules.material_prices`): `points_per_kg` is only the reference price a
    city's first price list starts from.
    """

    code = models.SlugField(max_length=32, unique=True)
    city = models.ForeignKey(
        "geo.City", on_delete=models.PROTECT, null=True, blank=True, related_name="own_materials"
    )
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    category = models.CharField(max_length=16, choices=WasteCategory.choices)
    points_per_kg = models.PositiveIntegerField()
    min_weight_g = models.PositiveIntegerField(default=1)
    max_weight_g = models.PositiveIntegerField(default=100_000)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_weight_g__lte=models.F("max_weight_g")), name="material_weight_range"
            )
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _forget_cached_rules()


class PointRules(models.Model):
    """One version of a city's point rules, in force from `effective_from` until the next version's.

    Versions are never edited (the database refuses it, see migration 0009): a change is a new version,
    so work done under a version keeps earning what that version said.
    """

    city = models.ForeignKey("geo.City", on_delete=models.PROTECT, related_name="point_rule_versions")
    version = models.PositiveIntegerField(default=1)
    effective_from = models.DateTimeField(default=rules_epoch)
    points_per_accepted_drop = models.PositiveIntegerField(default=10)
    resident_daily_drop_points_cap = models.PositiveIntegerField(default=50)
    resident_daily_deposit_points_cap = models.PositiveIntegerField(default=500)
    kiosk_daily_points_cap = models.PositiveIntegerField(default=20_000)
    # Drops and deposits of every member together, so a household cannot multiply its cap by its members.
    household_daily_points_cap = models.PositiveIntegerField(default=600)
    # Points per kg by material code: a material the city does not price here, its kiosks do not take.
    material_prices = models.JSONField(default=dict)
    # The city's carbon-reduction points (减碳积分): when enabled, a kiosk deposit earns points per kg of
    # CO2e its material's recycling factor says it avoided, instead of its material price.
    carbon_points_enabled = models.BooleanField(default=False)
    points_per_kg_co2e = models.PositiveIntegerField(default=10)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["city_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["city", "version"], name="point_rules_version_once"),
            models.UniqueConstraint(fields=["city", "effective_from"], name="point_rules_start_once"),
        ]

    def __str__(self):
        return f"rules of {self.city_id} v{self.version}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _forget_cached_rules()


class Shop(models.Model):
    """A shop or recycling supermarket whose merchants fulfil vouchers of its rewards."""

    name = models.CharField(_("name"), max_length=100)
    # The city that pays for the shop's vouchers; its officers manage the shop. Empty only on rows
    # made before shops had a city and that had no district to take it from.
    city = models.ForeignKey(
        "geo.City", on_delete=models.PROTECT, null=True, blank=True, related_name="shops"
    )
    district = models.ForeignKey("geo.District", on_delete=models.PROTECT, null=True, blank=True)
    merchants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shops")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class Reward(models.Model):
    """A catalog item. `total_stock` counts every unit ever stocked, so stock is conserved:
    stock + units held by issued or fulfilled redemptions == total_stock."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    points_cost = models.PositiveIntegerField()
    # What the shop states one unit is worth, in fen (1/100 yuan): settlement reports it per voucher.
    stated_value_fen = models.PositiveIntegerField(_("stated value (fen)"), default=0, db_default=0)
    stock = models.PositiveIntegerField(default=0)
    total_stock = models.PositiveIntegerField(default=0)
    per_resident_limit = models.PositiveIntegerField(null=True, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="rewards")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["points_cost", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="reward_cost_positive"),
            models.CheckConstraint(
                condition=Q(stock__lte=models.F("total_stock")), name="reward_stock_within_total"
            ),
        ]

    def __str__(self):
        return self.name


class Redemption(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("issued")
        FULFILLED = "fulfilled", _("fulfilled")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")

    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="redemptions"
    )
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    quantity = models.PositiveIntegerField()
    points_spent = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED)
    voucher_code = models.CharField(max_length=400, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["resident", "reward", "status"], name="redemption_limit_lookup")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="redemption_quantity_positive")
        ]

    def __str__(self):
        return f"redemption {self.pk} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first answer to a resident's or staff member's retried write, keyed by their Idempotency-Key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_once")]

    def __str__(self):
        return f"{self.scope}:{self.key}"


class EmissionFactor(models.Model):
    """Kilograms of CO2e avoided per kilogram of a material (or of a waste category) sent to a destination.

    Data, not code: each row names its published source and year, and the city officer edits it. A
    kiosk deposit reads its material's `recycling` row; collections read their category's row.
    """

    city = models.ForeignKey("geo.City", on_delete=models.PROTECT, related_name="emission_factors")
    material = models.ForeignKey(
        Material, on_delete=models.PROTECT, null=True, blank=True, related_name="emission_factors"
    )
    category = models.CharField(max_length=16, choices=WasteCategory.choices, blank=True)
    destination = models.CharField(max_length=24, choices=Destination.choices)
    kg_co2e_per_kg = models.DecimalField(_("kg CO2e avoided per kg"), max_digits=6, decimal_places=3)
    source = models.CharField(_("source"), max_length=300)
    source_year = models.PositiveSmallIntegerField(_("year of the source"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["city_id", "material__code", "category", "destination"]
        constraints = [
            models.CheckConstraint(
                condition=Q(material__isnull=False, category="") | Q(~Q(category=""), material__isnull=True),
                name="emission_factor_material_or_category",
            ),
            models.UniqueConstraint(
                fields=["city", "material", "destination"],
                condition=Q(material__isnull=False),
                name="emission_factor_once_per_material",
            ),
            models.UniqueConstraint(
                fields=["city", "category", "destination"],
                condition=Q(material__isnull=True),
                name="emission_factor_once_per_category",
            ),
            models.CheckConstraint(
                condition=Q(kg_co2e_per_kg__gte=-50, kg_co2e_per_kg__lte=50), name="emission_factor_bounded"
            ),
        ]

    def __str__(self):
        return f"{self.material_id or self.category}->{self.destination}: {self.kg_co2e_per_kg}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _forget_cached_rules()


class HouseholdDailyPoints(models.Model):
    """Points a household earned on one Asia/Shanghai day through every channel (drops and deposits).

    The day is the day of the activity (a drop's scan, a deposit's `occurred_at`), not of its upload or
    grading. Read and bumped under its row lock, like kiosks.DailyPoints; it always equals the points of
    the household's accepted drops and deposits of that day.
    """

    household = models.ForeignKey("accounts.Household", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    points = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "day"], name="household_daily_points_once")
        ]

    def __str__(self):
        return f"{self.household_id}:{self.day}={self.points}"


def _forget_cached_rules() -> None:
    # Other server processes pick changes up within rewards.selectors.CACHE_SECONDS.
    from .selectors import forget_cached_rules

    forget_cached_rules()
