from django.db import models
from django.utils.translation import gettext_lazy as _


class City(models.Model):
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    admin_code = models.CharField(_("national code"), max_length=12, unique=True)

    class Meta:
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        ordering = ["admin_code"]

    def __str__(self):
        return self.name


class District(models.Model):
    class Kind(models.TextChoices):
        DISTRICT = "district", _("district")
        COUNTY = "county", _("county")
        COUNTY_CITY = "county_city", _("county-level city")
        ZONE = "zone", _("city-managed zone")

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="districts")
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    slug = models.SlugField(max_length=64, unique=True)
    # City-managed zones have no national code of their own.
    admin_code = models.CharField(_("national code"), max_length=12, unique=True, null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DISTRICT)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["city_id", "id"]
        constraints = [models.UniqueConstraint(fields=["city", "name"], name="district_unique_name_in_city")]

    def __str__(self):
        return self.name


class Community(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="communities")
    name = models.CharField(_("name"), max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["district_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="community_unique_name_in_district")
        ]

    def __str__(self):
        return self.name
