from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.categories import WasteCategory


class Bin(models.Model):
    """A sorting bin with a printed QR label. Re-printing bumps `label_version`, voiding the old label."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        INACTIVE = "inactive", _("inactive")
        RETIRED = "retired", _("retired")

    community = models.ForeignKey("geo.Community", on_delete=models.PROTECT, related_name="bins")
    category = models.CharField(max_length=16, choices=WasteCategory.choices)
    name = models.CharField(_("name"), max_length=100)
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    label_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["community_id", "id"]

    def __str__(self):
        return self.name


class SortingPolicy(models.Model):
    """A district's anti-fraud rules and its auto-accept delay (none: every drop waits for an inspector)."""

    district = models.OneToOneField("geo.District", on_delete=models.CASCADE, related_name="sorting_policy")
    repeat_window_seconds = models.PositiveIntegerField(default=600)
    daily_drop_limit = models.PositiveIntegerField(default=10)
    max_distance_m = models.PositiveIntegerField(default=200)
    # A drop at a bin whose place is known must say where the phone was, or the distance rule is moot.
    require_coordinates = models.BooleanField(default=True)
    auto_accept_after = models.DurationField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "sorting policies"

    def __str__(self):
        return f"policy of {self.district}"


class Drop(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    class Verdict(models.TextChoices):
        CORRECT = "correct", _("correctly sorted")
        INCORRECT = "incorrect", _("incorrectly sorted")

    bin = models.ForeignKey(Bin, on_delete=models.PROTECT, related_name="drops")
    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drops")
    household = models.ForeignKey("accounts.Household", on_delete=models.PROTECT, null=True, related_name="+")
    community = models.ForeignKey("geo.Community", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    photo = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # Blank until an inspector grades it; an auto-accepted drop has no verdict (it is not an inspection).
    verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    verdict_note = models.CharField(max_length=500, blank=True)
    points_awarded = models.PositiveIntegerField(default=0)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    graded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["community", "status", "created_at"], name="drop_inspector_queue"),
            models.Index(fields=["resident", "created_at"], name="drop_resident_day"),
            models.Index(fields=["created_at"], name="drop_created"),
            models.Index(fields=["updated_at"], name="drop_updated"),
            # The statistics' incremental round recounts a community's day and a household's month
            # (stats/rollups/incremental.py).
            models.Index(fields=["community", "created_at"], name="drop_community_day"),
            models.Index(fields=["household", "created_at"], name="drop_household_day"),
        ]

    def __str__(self):
        return f"drop {self.pk} ({self.status})"


class ReinspectionSample(models.Model):
    """Drops drawn at random from a district's graded drops for a second, blind inspection.

    A district officer asks for one to measure how far inspectors agree; the second verdict never
    changes the drop or its points: it is a measurement, not an appeal.
    """

    district = models.ForeignKey("geo.District", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    period_from = models.DateField()
    period_to = models.DateField()
    requested_size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"sample {self.pk} of {self.district_id}"


class Reinspection(models.Model):
    sample = models.ForeignKey(ReinspectionSample, on_delete=models.CASCADE, related_name="items")
    drop = models.ForeignKey(Drop, on_delete=models.PROTECT, related_name="+")
    # Copied when drawn, so the comparison stays what it was even if the drop were ever re-graded.
    first_inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    first_verdict = models.CharField(max_length=10, choices=Drop.Verdict.choices)
    second_inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_verdict = models.CharField(max_length=10, choices=Drop.Verdict.choices, blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "drop"], name="reinspection_once_per_sample")
        ]

    def __str__(self):
        return f"reinspection {self.pk} of drop {self.drop_id}"
