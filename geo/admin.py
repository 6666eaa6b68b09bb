from django.contrib import admin

from .models import City, Community, District


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "admin_code"]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "admin_code", "kind", "city"]
    list_filter = ["city", "kind"]
    search_fields = ["name", "name_en", "admin_code"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "created_at"]
    list_filter = ["district"]
    search_fields = ["name"]
