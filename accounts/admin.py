from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from .models import Household, HouseholdInvitation, HouseholdJoinRequest, User


class GreenLoopUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        # District is on the add form: inspectors and district officers need one (a database check).
        fields = ("phone", "display_name", "role", "district")


class GreenLoopUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = GreenLoopUserChangeForm
    add_form = GreenLoopUserCreationForm
    ordering = ["-date_joined"]
    list_display = ["phone", "display_name", "role", "district", "household", "is_active"]
    list_filter = ["role", "district", "is_active", "is_staff"]
    search_fields = ["phone", "display_name"]
    filter_horizontal = ["communities", "groups", "user_permissions"]
    readonly_fields = ["public_id", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["phone", "password", "public_id"]}),
        ("Profile", {"fields": ["display_name", "role", "household", "leaderboard_opt_in"]}),
        ("Scope", {"fields": ["city", "district", "communities"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["phone", "display_name", "role", "district", "password1", "password2"],
            },
        )
    ]
    autocomplete_fields = ["household"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["address", "community", "created_at"]
    list_filter = ["community__district"]
    search_fields = ["address", "community__name"]


@admin.register(HouseholdJoinRequest)
class HouseholdJoinRequestAdmin(admin.ModelAdmin):
    list_display = ["resident", "household", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    raw_id_fields = ["resident", "household", "decided_by"]


@admin.register(HouseholdInvitation)
class HouseholdInvitationAdmin(admin.ModelAdmin):
    # The digest alone is stored; an invitation is read here, never made or changed.
    list_display = ["household", "issued_by", "created_at", "expires_at", "used_by", "used_at"]
    readonly_fields = ["household", "issued_by", "digest", "expires_at", "used_by", "used_at"]

    def has_add_permission(self, request):
        return False
