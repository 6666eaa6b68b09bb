from django.db import models
from django.utils import timezone


class JobStatus(models.Model):
    """One row per scheduled job: what an operator asks first (did it run, did it work, how late is it)."""

    name = models.CharField(max_length=64, primary_key=True)
    # When a worker first knew the job: a daily job that has not had its first tick yet is not late.
    registered_at = models.DateTimeField(default=timezone.now)
    runs = models.PositiveBigIntegerField(default=0)
    failures = models.PositiveBigIntegerField(default=0)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "job statuses"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
