from django.contrib import admin

from .models import Bin, Drop, Reinspection, ReinspectionSample, SortingPolicy


@admin.register(Bin)
class BinAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "category", "community", "status", "label_version", "created_at"]
    list_filter = ["category", "status", "community__district"]
    search_fields = ["name"]
    readonly_fields = ["label_version"]


@admin.register(Drop)
class DropAdmin(admin.ModelAdmin):
    list_display = ["id", "bin", "resident", "status", "verdict", "points_awarded", "created_at", "graded_at"]
    list_filter = ["status", "verdict", "community__district"]
    readonly_fields = [f.name for f in Drop._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SortingPolicy)
class SortingPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "district",
        "repeat_window_seconds",
        "daily_drop_limit",
        "max_distance_m",
        "require_coordinates",
        "auto_accept_after",
    ]
    list_editable = ["require_coordinates"]


class ReinspectionInline(admin.TabularInline):
    model = Reinspection
    extra = 0
    can_delete = False
    readonly_fields = [
        "drop",
        "first_inspector",
        "first_verdict",
        "second_inspector",
        "second_verdict",
        "graded_at",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReinspectionSample)
class ReinspectionSampleAdmin(admin.ModelAdmin):
    list_display = ["id", "district", "inspector", "period_from", "period_to", "requested_size", "created_at"]
    list_filter = ["district"]
    readonly_fields = ["district", "requested_by", "inspector", "period_from", "period_to", "requested_size"]
    inlines = [ReinspectionInline]
