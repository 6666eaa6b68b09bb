from django.contrib import admin

from backend.read_only_admin import ReadOnlyAdmin

from .models import (
    Account,
    EmissionFactor,
    LedgerTransaction,
    Material,
    PointRules,
    Posting,
    Redemption,
    Reward,
    Shop,
)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "owner", "balance", "created_at"]
    list_filter = ["kind"]
    search_fields = ["owner__display_name", "owner__phone"]


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False
    readonly_fields = ["account", "amount", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "idempotency_key", "kind", "memo", "created_at"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key"]
    inlines = [PostingInline]


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "category",
        "points_per_kg",
        "city",
        "min_weight_g",
        "max_weight_g",
        "active",
    ]
    list_filter = ["category", "active"]


@admin.register(PointRules)
class PointRulesAdmin(ReadOnlyAdmin):
    """Read-only: a version is never edited, and new ones go through rewards.services, which checks them."""

    list_display = [
        "city",
        "version",
        "effective_from",
        "points_per_accepted_drop",
        "resident_daily_drop_points_cap",
        "resident_daily_deposit_points_cap",
        "kiosk_daily_points_cap",
        "household_daily_points_cap",
        "carbon_points_enabled",
        "points_per_kg_co2e",
        "created_at",
    ]
    list_filter = ["city"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "district", "created_at"]
    filter_horizontal = ["merchants"]


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "points_cost",
        "stock",
        "total_stock",
        "per_resident_limit",
        "shop",
        "active",
        "valid_until",
    ]
    list_filter = ["active", "shop"]
    exclude = ["total_stock"]

    def get_readonly_fields(self, request, obj=None):
        # Stock moves only through redemptions once a reward exists, or conservation would break.
        return ["stock"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.total_stock = obj.stock
        super().save_model(request, obj, form, change)


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["id", "resident", "reward", "quantity", "points_spent", "status", "created_at"]
    list_filter = ["status"]
    exclude = ["voucher_code"]


@admin.register(EmissionFactor)
class EmissionFactorAdmin(admin.ModelAdmin):
    list_display = ["city", "material", "category", "destination", "kg_co2e_per_kg", "source_year", "source"]
    list_filter = ["city", "destination", "category"]
