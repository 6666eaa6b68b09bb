from django.contrib import admin

from .models import JobStatus


@admin.register(JobStatus)
class JobStatusAdmin(admin.ModelAdmin):
    list_display = ["name", "last_success_at", "last_failure_at", "runs", "failures", "last_duration_ms"]
    readonly_fields = [field.name for field in JobStatus._meta.fields]

    def has_add_permission(self, request):
        return False
