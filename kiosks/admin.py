from django.contrib import admin

from .models import Deposit, Kiosk, KioskAlert, KioskSession


@admin.register(Kiosk)
class KioskAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "community",
        "enabled",
        "reported_status",
        "last_heartbeat_at",
        "secret_version",
    ]
    list_filter = ["enabled", "community__district"]
    search_fields = ["name"]
    filter_horizontal = ["materials"]
    # Secrets rotate through the API (shown once there); the version is not to be edited by hand.
    readonly_fields = [
        "secret_version",
        "previous_secret_valid_until",
        "last_heartbeat_at",
        "fill_levels",
        "firmware",
    ]


@admin.register(KioskSession)
class KioskSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "kiosk", "status", "resident", "created_at", "claimed_at", "closed_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in KioskSession._meta.fields]


@admin.register(Deposit)
class DepositAdmin(admin.ModelAdmin):
    list_display = [
        "deposit_id",
        "kiosk",
        "resident",
        "material",
        "weight_g",
        "points_awarded",
        "occurred_at",
    ]
    list_filter = ["material", "kiosk__community__district"]
    search_fields = ["deposit_id"]
    readonly_fields = [f.name for f in Deposit._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KioskAlert)
class KioskAlertAdmin(admin.ModelAdmin):
    list_display = ["kiosk", "kind", "material", "detail", "raised_at", "cleared_at"]
    list_filter = ["kind", "cleared_at"]
