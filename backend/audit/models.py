from django.db import models
from django.db.models.functions import Now


class AuditEntry(models.Model):
    """One staff write. Rows are never changed: migration 0002 makes PostgreSQL refuse UPDATE,
    DELETE and TRUNCATE on this table."""

    class ActorKind(models.TextChoices):
        USER = "user", "user"
        KIOSK = "kiosk", "kiosk"
        SYSTEM = "system", "system job"

    class Action(models.TextChoices):
        CREATE = "create", "create"
        UPDATE = "update", "update"
        DELETE = "delete", "delete"
        # A write that changed no row through the ORM (a conditional UPDATE, say) or a command run.
        OTHER = "other", "other"

    occurred_at = models.DateTimeField(db_default=Now(), db_index=True)
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    # Plain values, not a foreign key: the trail outlives users and depends on no area.
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_role = models.CharField(max_length=20, blank=True)
    actor_label = models.CharField(max_length=100, blank=True)
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True)
    related = models.JSONField(default=list, blank=True)
    city_id = models.BigIntegerField(null=True, blank=True)
    district_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    client_address = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    route = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.action} {self.object_type}:{self.object_id}"
