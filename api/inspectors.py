"""Inspector quality over HTTP: per-inspector figures, blind re-inspection samples and their queue."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from geo.models import District
from sorting import selectors, services
from sorting.models import Drop, Reinspection, ReinspectionSample
from stats.selectors import parse_period

from .permissions import IsDistrictOfficer, IsInspector, IsStaffMember

PERIOD_PARAMETERS = [
    OpenApiParameter("from", str, description="YYYY-MM-DD, inclusive (default 1 January)"),
    OpenApiParameter("to", str, description="YYYY-MM-DD, inclusive (default 31 December)"),
]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


# ---- serializers -------------------------------------------------------------------------------


class InspectorQualityOut(serializers.Serializer):
    inspector_id = serializers.IntegerField()
    display_name = serializers.CharField()
    district_id = serializers.IntegerField()
    verdicts = serializers.IntegerField()
    correct = serializers.IntegerField()
    correct_share = serializers.SerializerMethodField()
    median_seconds_to_verdict = serializers.SerializerMethodField()
    mean_seconds_to_verdict = serializers.SerializerMethodField()
    community_drops = serializers.IntegerField()
    auto_accepted = serializers.IntegerField()
    auto_accepted_share = serializers.SerializerMethodField()
    reinspected = serializers.IntegerField()
    agreed = serializers.IntegerField()
    agreement_rate = serializers.SerializerMethodField()

    def get_correct_share(self, row) -> float | None:
        return _share(row.correct, row.verdicts)

    def get_median_seconds_to_verdict(self, row) -> float | None:
        return _seconds(row.median_seconds_to_verdict)

    def get_mean_seconds_to_verdict(self, row) -> float | None:
        return _seconds(row.mean_seconds_to_verdict)

    def get_auto_accepted_share(self, row) -> float | None:
        return _share(row.auto_accepted, row.community_drops)

    def get_agreement_rate(self, row) -> float | None:
        return _share(row.agreed, row.reinspected)


class InspectorQualityListOut(serializers.Serializer):
    from_ = serializers.DateField()
    to = serializers.DateField()
    results = InspectorQualityOut(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class InspectorQualityQuery(serializers.Serializer):
    district = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)


class SampleIn(serializers.Serializer):
    district_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    size = serializers.IntegerField(min_value=1, max_value=services.LARGEST_SAMPLE)
    inspector_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    from_ = serializers.DateField(required=False)
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class DisagreementOut(serializers.Serializer):
    drop_id = serializers.IntegerField()
    first_inspector_id = serializers.IntegerField()
    first_inspector = serializers.CharField(source="first_inspector.shown_name")
    first_verdict = serializers.CharField()
    second_inspector_id = serializers.IntegerField()
    second_inspector = serializers.CharField(source="second_inspector.shown_name")
    second_verdict = serializers.CharField()


class SampleOut(serializers.Serializer):
    id = serializers.IntegerField()
    district_id = serializers.IntegerField()
    inspector_id = serializers.IntegerField(allow_null=True)
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    requested_size = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    drawn = serializers.SerializerMethodField()
    graded = serializers.SerializerMethodField()
    agreed = serializers.SerializerMethodField()
    agreement_rate = serializers.SerializerMethodField()
    disagreements = serializers.SerializerMethodField()

    def _items(self, sample) -> list[Reinspection]:
        if not hasattr(sample, "_items_cache"):
            sample._items_cache = list(selectors.sample_items(sample))
        return sample._items_cache

    def get_drawn(self, sample) -> int:
        return len(self._items(sample))

    def get_graded(self, sample) -> int:
        return sum(1 for item in self._items(sample) if item.second_verdict)

    def get_agreed(self, sample) -> int:
        return sum(1 for item in self._items(sample) if item.second_verdict == item.first_verdict)

    def get_agreement_rate(self, sample) -> float | None:
        return _share(self.get_agreed(sample), self.get_graded(sample))

    @extend_schema_field(DisagreementOut(many=True))
    def get_disagreements(self, sample):
        differing = [
            i for i in self._items(sample) if i.second_verdict and i.second_verdict != i.first_verdict
        ]
        return DisagreementOut(differing, many=True).data


class QueueItemOut(serializers.Serializer):
    """A drop to grade blind: what the first inspector saw, without what they decided."""

    id = serializers.IntegerField()
    drop_id = serializers.IntegerField()
    bin = serializers.IntegerField(source="drop.bin_id")
    category = serializers.CharField(source="drop.bin.category")
    community_id = serializers.IntegerField(source="drop.community_id")
    created_at = serializers.DateTimeField(source="drop.created_at")
    has_photo = serializers.SerializerMethodField()

    def get_has_photo(self, item) -> bool:
        return bool(item.drop.photo)


class ReverdictIn(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Drop.Verdict.choices)


class ReverdictOut(serializers.Serializer):
    id = serializers.IntegerField()
    drop_id = serializers.IntegerField()
    verdict = serializers.CharField(source="second_verdict")
    graded_at = serializers.DateTimeField()


# ---- views -------------------------------------------------------------------------------------


class InspectorQualityView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(parameters=[*PERIOD_PARAMETERS, InspectorQualityQuery], responses=InspectorQualityListOut)
    def get(self, request):
        query = InspectorQualityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        first, last = parse_period(request.query_params.get("from"), request.query_params.get("to"))
        rows = selectors.inspector_quality(
            request.user, first=first, last=last, district_id=query.validated_data.get("district")
        )
        return Response(InspectorQualityListOut({"from": first, "to": last, "results": rows}).data)


class SampleListCreateView(generics.ListAPIView):
    permission_classes = [IsStaffMember]
    serializer_class = SampleOut

    def get_permissions(self):
        return [IsDistrictOfficer()] if self.request.method == "POST" else [IsStaffMember()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReinspectionSample.objects.none()
        return selectors.samples_visible_to(self.request.user)

    @extend_schema(request=SampleIn, responses={201: SampleOut})
    def post(self, request):
        data = SampleIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        first, last = parse_period(
            values["from"].isoformat() if values.get("from") else None,
            values["to"].isoformat() if values.get("to") else None,
        )
        district = get_object_or_404(District, pk=values["district_id"])
        inspector = None
        if values.get("inspector_id"):
            inspector = get_object_or_404(User, pk=values["inspector_id"])
        sample = services.request_reinspection(
            actor=request.user,
            district=district,
            size=values["size"],
            period_from=first,
            period_to=last,
            inspector=inspector,
        )
        return Response(SampleOut(sample).data, status=status.HTTP_201_CREATED)


class SampleDetailView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses=SampleOut)
    def get(self, request, sample_id: int):
        sample = get_object_or_404(selectors.samples_visible_to(request.user), pk=sample_id)
        return Response(SampleOut(sample).data)


class ReinspectionQueueView(generics.ListAPIView):
    permission_classes = [IsInspector]
    serializer_class = QueueItemOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reinspection.objects.none()
        return selectors.reinspection_queue(self.request.user)


class ReinspectionVerdictView(APIView):
    permission_classes = [IsInspector]

    @extend_schema(request=ReverdictIn, responses=ReverdictOut)
    def post(self, request, reinspection_id: int):
        data = ReverdictIn(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.grade_reinspection(
            inspector=request.user, reinspection_id=reinspection_id, verdict=data.validated_data["verdict"]
        )
        return Response(ReverdictOut(item).data)
