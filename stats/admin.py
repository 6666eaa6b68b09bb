from django.contrib import admin

from .models import Collection, DistrictStatsSettings, IndicatorTarget


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


@admin.register(IndicatorTarget)
class IndicatorTargetAdmin(admin.ModelAdmin):
    list_display = ("city", "indicator", "year", "target", "updated_by", "updated_at")
    list_filter = ("city", "indicator")
    readonly_fields = ("updated_by", "updated_at")

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
