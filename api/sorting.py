"""Bins, labels, drops, photos and inspectors' verdicts over HTTP."""

from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.categories import WasteCategory
from backend.errors import InvalidInput
from geo.models import Community
from rewards.selectors import balance_of
from sorting import selectors, services
from sorting.models import Bin, Drop

from .fields import IdField
from .filters import BinFilter, DropFilter, LabelSheetFilter
from .parsers import SafeJSONParser
from .permissions import IsDistrictOfficer, IsInspector, IsResident, IsStaffMember

# ---- serializers -------------------------------------------------------------------------------


class BinIn(serializers.Serializer):
    community_id = IdField()
    category = serializers.ChoiceField(choices=WasteCategory.choices)
    name = serializers.CharField(max_length=100)
    lat = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    lng = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )


class BinCreatedOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    category = serializers.CharField()
    label_version = serializers.IntegerField()


class BinOut(serializers.ModelSerializer):
    class Meta:
        model = Bin
        fields = [
            "id",
            "community_id",
            "category",
            "name",
            "lat",
            "lng",
            "status",
            "label_version",
            "created_at",
        ]


class BinStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=Bin.Status.choices)


class DropIn(serializers.Serializer):
    bin_code = serializers.CharField(max_length=400)
    lat = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    lng = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )
    photo = serializers.FileField(required=False, allow_empty_file=False)


class DropOut(serializers.ModelSerializer):
    bin = serializers.IntegerField(source="bin_id")
    category = serializers.CharField(source="bin.category")
    has_photo = serializers.SerializerMethodField()

    class Meta:
        model = Drop
        fields = [
            "id",
            "bin",
            "category",
            "community_id",
            "status",
            "verdict",
            "verdict_note",
            "points_awarded",
            "created_at",
            "graded_at",
            "has_photo",
        ]

    def get_has_photo(self, drop) -> bool:
        return bool(drop.photo)


class DropCreatedOut(DropOut):
    balance = serializers.SerializerMethodField()

    class Meta(DropOut.Meta):
        fields = [*DropOut.Meta.fields, "balance"]

    def get_balance(self, drop) -> int:
        return balance_of(drop.resident)


class VerdictIn(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Drop.Verdict.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class InspectIn(VerdictIn):
    bin_code = serializers.CharField(max_length=400)
    resident_code = serializers.CharField(max_length=400)


# ---- bins --------------------------------------------------------------------------------------


class BinListCreateView(generics.ListAPIView):
    permission_classes = [IsDistrictOfficer]
    serializer_class = BinOut
    filterset_class = BinFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Bin.objects.none()
        return selectors.bins_visible_to(self.request.user)

    @extend_schema(request=BinIn, responses={201: BinCreatedOut})
    def post(self, request):
        data = BinIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        community = get_object_or_404(
            Community.objects.select_related("district"), pk=values.pop("community_id")
        )
        bin_ = services.create_bin(actor=request.user, community=community, **values)
        body = {
            "id": bin_.pk,
            "code": services.bin_code(bin_),
            "category": bin_.category,
            "label_version": bin_.label_version,
        }
        return Response(BinCreatedOut(body).data, status=status.HTTP_201_CREATED)


def _staff_bin(request, bin_id) -> Bin:
    return get_object_or_404(
        selectors.bins_visible_to(request.user).select_related("community__district"), pk=bin_id
    )


class BinReprintView(APIView):
    permission_classes = [IsDistrictOfficer]

    @extend_schema(request=None, responses=BinCreatedOut)
    def post(self, request, bin_id: int):
        bin_ = services.reprint_label(actor=request.user, bin_=_staff_bin(request, bin_id))
        body = {
            "id": bin_.pk,
            "code": services.bin_code(bin_),
            "category": bin_.category,
            "label_version": bin_.label_version,
        }
        return Response(BinCreatedOut(body).data)


class BinStatusView(APIView):
    permission_classes = [IsDistrictOfficer]

    @extend_schema(request=BinStatusIn, responses=BinOut)
    def post(self, request, bin_id: int):
        data = BinStatusIn(data=request.data)
        data.is_valid(raise_exception=True)
        bin_ = services.set_bin_status(
            actor=request.user, bin_=_staff_bin(request, bin_id), status=data.validated_data["status"]
        )
        return Response(BinOut(bin_).data)


class BinLabelPngView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, bin_id: int):
        bin_ = _staff_bin(request, bin_id)
        return HttpResponse(selectors.label_png(bin_), content_type="image/png")


class BinLabelSvgView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses={(200, "image/svg+xml"): OpenApiTypes.BINARY})
    def get(self, request, bin_id: int):
        bin_ = _staff_bin(request, bin_id)
        return HttpResponse(selectors.label_svg(bin_), content_type="image/svg+xml")


class BinLabelSheetView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=[OpenApiParameter("community", int, required=True)],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        query = LabelSheetFilter(request.query_params, queryset=Bin.objects.none())
        if not query.is_valid():
            fields = {name: list(messages) for name, messages in query.errors.items()}
            raise InvalidInput(_("A community id is required."), fields=fields)
        community = query.form.cleaned_data["community"]
        pdf = selectors.label_sheet_pdf(request.user, community_id=community)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="bin-labels-{community}.pdf"'
        return response


# ---- drops -------------------------------------------------------------------------------------


class DropListCreateView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = DropOut
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]
    filterset_class = DropFilter

    def get_permissions(self):
        # Anyone signed in lists the drops they may see; only a resident makes one.
        return [IsResident()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Drop.objects.none()
        return selectors.drops_visible_to(self.request.user)

    @extend_schema(responses=DropOut(many=True))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"application/json": DropIn, "multipart/form-data": DropIn},
        responses={201: DropCreatedOut},
    )
    def post(self, request):
        data = DropIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        drop = services.record_drop(
            resident=request.user,
            bin_code_value=values["bin_code"],
            lat=values.get("lat"),
            lng=values.get("lng"),
            photo=values.get("photo"),
        )
        return Response(DropCreatedOut(drop).data, status=status.HTTP_201_CREATED)


class DropVerdictView(APIView):
    permission_classes = [IsInspector]

    @extend_schema(request=VerdictIn, responses=DropOut)
    def post(self, request, drop_id: int):
        data = VerdictIn(data=request.data)
        data.is_valid(raise_exception=True)
        drop = services.grade_drop(
            inspector=request.user,
            drop_id=drop_id,
            verdict=data.validated_data["verdict"],
            note=data.validated_data.get("note", ""),
        )
        return Response(DropOut(drop).data)


class DropInspectView(APIView):
    permission_classes = [IsInspector]

    @extend_schema(request=InspectIn, responses={201: DropOut})
    def post(self, request):
        data = InspectIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        drop = services.inspect_on_the_spot(
            inspector=request.user,
            bin_code_value=values["bin_code"],
            resident_code=values["resident_code"],
            verdict=values["verdict"],
            note=values.get("note", ""),
        )
        return Response(DropOut(drop).data, status=status.HTTP_201_CREATED)


class DropPhotoView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, drop_id: int):
        handle = selectors.drop_photo(request.user, drop_id=drop_id)
        response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response
