from django.contrib import admin

from .models import Collection, CustodyHandover, DistrictStatsSettings, HazardousManifest, IndicatorTarget


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


class CustodyHandoverInline(admin.TabularInline):
    model = CustodyHandover
    extra = 0
    fields = (
        "sequence",
        "stage",
        "holder",
        "weight_g",
        "previous_g",
        "flagged",
        "handed_over_at",
        "recorded_by",
    )
    readonly_fields = fields
    can_delete = False

    # The chain is evidence: hand-overs are recorded through the API, never edited.
    def has_add_permission(self, request, obj=None):
        return False


@admin.register(HazardousManifest)
class HazardousManifestAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "district",
        "handler",
        "handed_over_g",
        "handed_over_at",
        "received_g",
        "closed_at",
    )
    list_filter = ("district", "handler")
    search_fields = ("number",)
    inlines = [CustodyHandoverInline]
    readonly_fields = (
        "number",
        "district",
        "handler",
        "handed_over_g",
        "handed_over_at",
        "received_g",
        "closed_at",
        "collection",
        "recorded_by",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
