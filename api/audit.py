"""The audit trail over HTTP: officers read the staff writes of their scope."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from accounts.models import Role
from accounts.selectors import visible_districts
from backend.audit import selectors
from backend.audit.models import AuditEntry

from .fields import BoundedDateField, IdField
from .pagination import PagePagination
from .parsers import holds_unstorable_text
from .permissions import IsDistrictOfficer


class StorableCharField(serializers.CharField):
    """Text that can reach PostgreSQL: no NUL (DRF already refuses it) and no lone surrogate."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if holds_unstorable_text(value):
            raise serializers.ValidationError(_("The text holds characters that cannot be stored."))
        return value


class AuditQuery(serializers.Serializer):
    actor_id = IdField(required=False)
    actor_kind = serializers.ChoiceField(choices=AuditEntry.ActorKind.choices, required=False)
    object_type = StorableCharField(max_length=100, required=False)
    object_id = StorableCharField(max_length=64, required=False)
    action = serializers.ChoiceField(choices=AuditEntry.Action.choices, required=False)
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=200, required=False)

    def get_fields(self):
        # `from` is a Python keyword: declared here so the schema names the real parameter.
        fields = super().get_fields()
        fields["from"] = BoundedDateField(required=False)
        fields["to"] = BoundedDateField(required=False)
        return fields

    def validate(self, attrs):
        if "from" in attrs and "to" in attrs and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": [_("The period ends before it starts.")]})
        return attrs


class AuditEntryOut(serializers.ModelSerializer):
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(allow_null=True), min_length=2, max_length=2),
        help_text="Changed fields only: {field: [before, after]}; secrets never, phone numbers masked.",
    )
    related = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "occurred_at",
            "actor_kind",
            "actor_id",
            "actor_role",
            "actor_label",
            "object_type",
            "object_id",
            "action",
            "changes",
            "related",
            "city_id",
            "district_id",
            "client_address",
            "request_id",
            "route",
        ]


@extend_schema(parameters=[AuditQuery])
class AuditListView(generics.ListAPIView):
    """City officers and admins read their city's trail; a district officer their district's."""

    permission_classes = [IsDistrictOfficer]
    serializer_class = AuditEntryOut
    pagination_class = PagePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEntry.objects.none()
        query = AuditQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        user = self.request.user
        everything = user.is_superuser or user.role == Role.ADMIN
        city_id = user.city_id if user.role == Role.CITY_OFFICER else None
        district_ids = list(visible_districts(user).values_list("id", flat=True))
        return selectors.entries_for(
            everything=everything, city_id=city_id, district_ids=district_ids, filters=query.validated_data
        )
