import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kiosk(models.Model):
    """A recycling kiosk. Its secret is derived from the master key, its id and `secret_version`;
    nothing secret is stored. After a rotation the previous version keeps working until
    `previous_secret_valid_until`, so a kiosk that was offline can still upload what it holds."""

    community = models.ForeignKey("geo.Community", on_delete=models.PROTECT, related_name="kiosks")
    name = models.CharField(_("name"), max_length=100)
    enabled = models.BooleanField(default=True)
    secret_version = models.PositiveIntegerField(default=1)
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True)
    materials = models.ManyToManyField("rewards.Material", related_name="kiosks")
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    reported_status = models.CharField(max_length=32, blank=True)
    fill_levels = models.JSONField(default=dict, blank=True)
    firmware = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class KioskNonce(models.Model):
    """Nonces seen inside the signature window, remembered in PostgreSQL so a replay is refused by
    every server process. Rows older than the window are purged by `purge_kiosk_nonces`."""

    # No index of its own (kiosk_nonce_once leads with it) and no database constraint: every signed
    # request inserts a row, nonces are purged once their window has passed, and Django's CASCADE
    # still removes a deleted kiosk's nonces.
    kiosk = models.ForeignKey(
        Kiosk, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kiosk", "nonce"], name="kiosk_nonce_once")]

    def __str__(self):
        return self.nonce


class KioskSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLAIMED = "claimed", _("claimed")
        CLOSED = "closed", _("closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kiosk = models.ForeignKey(Kiosk, on_delete=models.CASCADE, related_name="sessions")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return str(self.id)


class Deposit(models.Model):
    """Recyclables a kiosk weighed for a resident: an append-only event, once per (kiosk, deposit_id)."""

    # Every index is paid for on every deposit's insert, so the table keeps only those a query reads:
    # no foreign key has an index of its own. Kiosk, resident, household and community each lead a
    # composite index below; sessions and materials are never deleted (a material is retired) and no
    # query looks deposits up by either alone.
    kiosk = models.ForeignKey(Kiosk, on_delete=models.PROTECT, related_name="deposits", db_index=False)
    deposit_id = models.UUIDField()
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deposits", db_index=False
    )
    household = models.ForeignKey(
        "accounts.Household", on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    # The community and the material are referenced without a database constraint: every concurrent
    # deposit of a community, or of a material city-wide, would share-lock that one row to check it.
    # Both are only ever deleted through Django, whose PROTECT still refuses while a deposit names them.
    community = models.ForeignKey(
        "geo.Community", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    session = models.ForeignKey(
        KioskSession, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    material = models.ForeignKey(
        "rewards.Material", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    weight_g = models.PositiveIntegerField()
    count = models.PositiveIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    points_awarded = models.PositiveIntegerField(default=0)
    # When the bag this deposit belongs to began: deposits of one material by one resident within the
    # merge window of a bag's first one earn the points of their summed weight, rounded once.
    bag_started_at = models.DateTimeField(null=True, blank=True)
    # The bag's weight up to and including this deposit.
    bag_weight_g = models.BigIntegerField(null=True, blank=True)
    # sha256 of the canonical request body: a retry must match it, or it is a conflict.
    fingerprint = models.CharField(max_length=64)
    response = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kiosk", "deposit_id"], name="deposit_once_per_kiosk")]
        indexes = [
            models.Index(fields=["resident", "occurred_at"], name="deposit_resident_day"),
            models.Index(fields=["kiosk", "occurred_at"], name="deposit_kiosk_day"),
            models.Index(fields=["occurred_at"], name="deposit_occurred"),
            models.Index(fields=["resident", "material", "-id"], name="deposit_resident_bag"),
            # The statistics' incremental round recounts a community's day and a household's month
            # (stats/rollups/incremental.py).
            models.Index(fields=["community", "occurred_at"], name="deposit_community_day"),
            models.Index(fields=["household", "occurred_at"], name="deposit_household_day"),
        ]

    def __str__(self):
        return str(self.deposit_id)


class KioskAlert(models.Model):
    class Kind(models.TextChoices):
        FILL = "fill", _("compartment nearly full")
        SILENT = "silent", _("kiosk silent")
        SHRINKAGE = "shrink", _("pickup weight off what was deposited")
        CUSTODY = "custody", _("hazardous batch without a closed manifest")

    kiosk = models.ForeignKey(Kiosk, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    material = models.CharField(max_length=32, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    raised_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kiosk", "kind", "material"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_alert",
            )
        ]

    def __str__(self):
        return f"{self.kiosk_id}:{self.kind}:{self.material}"


class DailyPoints(models.Model):
    """Points a kiosk or a resident earned from deposits on one Asia/Shanghai day, for the daily caps.

    A running total read and bumped under its row lock costs the same at the thousandth deposit of the
    day as at the first; summing the day's deposits instead would cost more with every deposit. It
    always equals the sum of `Deposit.points_awarded` for that kiosk or resident and day.
    """

    class Subject(models.TextChoices):
        KIOSK = "kiosk", _("kiosk")
        RESIDENT = "resident", _("resident")

    subject = models.CharField(max_length=8, choices=Subject.choices)
    subject_id = models.BigIntegerField()
    day = models.DateField()
    points = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "subject_id", "day"], name="daily_points_once")
        ]

    def __str__(self):
        return f"{self.subject}:{self.subject_id}:{self.day}={self.points}"


class Pickup(models.Model):
    """A kiosk emptied by a collector: one line per material, weighed at the kiosk or by the collector.

    The deposits it empties are those of the kiosk since its previous pickup (by `occurred_at`); each
    line keeps what they weighed (`expected_g`), so shrinkage is read without re-reading deposits.
    """

    class Source(models.TextChoices):
        KIOSK = "kiosk", _("signed by the kiosk")
        STAFF = "staff", _("entered by staff")
        BACKFILL = "backfill", _("deposits before pickups were recorded")

    kiosk = models.ForeignKey(Kiosk, on_delete=models.PROTECT, related_name="pickups")
    pickup_id = models.UUIDField()
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    collected_at = models.DateTimeField()
    # Deposits up to and including this instant belong to this pickup or an earlier one.
    covers_until = models.DateTimeField()
    # What the first request said, so a retry with other lines is told apart from a replay.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kiosk", "pickup_id"], name="pickup_once_per_kiosk")]
        indexes = [models.Index(fields=["kiosk", "collected_at"], name="pickup_kiosk_time")]

    def __str__(self):
        return f"pickup {self.pickup_id} of kiosk {self.kiosk_id}"


class PickupLine(models.Model):
    pickup = models.ForeignKey(Pickup, on_delete=models.CASCADE, related_name="lines")
    material = models.ForeignKey("rewards.Material", on_delete=models.PROTECT, related_name="+")
    # Zero for a material that was deposited but not handed over: the whole amount went missing.
    weight_g = models.BigIntegerField()
    expected_g = models.BigIntegerField()
    flagged = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pickup", "material"], name="pickup_line_per_material"),
            models.CheckConstraint(
                condition=Q(weight_g__gte=0, expected_g__gte=0), name="pickup_line_weights"
            ),
        ]

    def __str__(self):
        return f"{self.pickup_id} {self.material_id}: {self.weight_g} g of {self.expected_g} g"
