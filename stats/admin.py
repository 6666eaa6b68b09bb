from django.contrib import admin

from .models import Collection, DistrictStatsSettings


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = (
        "date",
        "district",
        "community",
        "category",
        "destination",
        "weight_g",
        "source",
        "reverses",
    )
    list_filter = ("district", "category", "destination", "source")
    date_hierarchy = "date"

    # Collections are corrected by reversing records, never edited in place.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DistrictStatsSettings)
class DistrictStatsSettingsAdmin(admin.ModelAdmin):
    list_display = ("district", "incineration_counts_as_recovery", "updated_at")
