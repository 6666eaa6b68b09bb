from django.contrib import admin

from backend.read_only_admin import ReadOnlyAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the table refuses edits anyway, and the admin should not offer them."""

    list_display = (
        "occurred_at",
        "actor_kind",
        "actor_role",
        "actor_id",
        "action",
        "object_type",
        "object_id",
    )
    list_filter = ("action", "actor_kind", "object_type")
    search_fields = ("object_type", "object_id", "request_id", "actor_label")
    date_hierarchy = "occurred_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
