"""REST API of the rollout: village statuses, progress reports, adoption snapshots."""

from decimal import Decimal

import django_filters
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import Capability, requires
from accounts.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from grants.models import Grant
from rollout import selectors, services
from rollout.models import (
    STATUS_FIELDS,
    AdoptionSnapshot,
    Blocker,
    PillarStatus,
    ProgressReport,
    ReportStatus,
    Signal,
    SnapshotLevel,
)
from smartvillage.api import MissingAsDefaultMixin, ValuesListMixin, lookup_any_segment, validated
from smartvillage.errors import ApplicationError
from villages.api import CODE_PARAMETER
from villages.models import DISTRICT_CODE_RE, VILLAGE_CODE_RE, District, Village

# --- output ---------------------------------------------------------------------------------------


class VillageRolloutSerializer(MissingAsDefaultMixin, serializers.ModelSerializer):
    # A village without any verified report (no status row) reads as each field's default.
    district = serializers.CharField(source="district.code")
    regency = serializers.CharField(source="regency.code")
    adopted = serializers.BooleanField(source="is_adopted")
    pillar1 = serializers.CharField(source="rollout.pillar1", default=PillarStatus.NOT_STARTED)
    pillar1_since = serializers.DateField(source="rollout.pillar1_since", default=None, allow_null=True)
    pillar2 = serializers.CharField(source="rollout.pillar2", default=PillarStatus.NOT_STARTED)
    pillar3 = serializers.CharField(source="rollout.pillar3", default=PillarStatus.NOT_STARTED)
    signal = serializers.CharField(source="rollout.signal", default=Signal.NONE)
    signal_sufficient = serializers.BooleanField(source="rollout.signal_sufficient", default=False)
    blocker = serializers.CharField(source="rollout.blocker", default="")
    blocker_note = serializers.CharField(source="rollout.blocker_note", default="")
    last_verified_on = serializers.DateField(source="rollout.last_verified_on", default=None, allow_null=True)

    class Meta:
        model = Village
        fields = [
            "code",
            "name",
            "kind",
            "district",
            "regency",
            "adopted",
            *STATUS_FIELDS,
            "pillar1_since",
            "last_verified_on",
        ]


class ReportPhotoSerializer(serializers.Serializer):
    url = serializers.SerializerMethodField(help_text="Served only to users who may read the village (session).")
    position = serializers.IntegerField()
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField(help_text="SHA-256 of the stored (re-encoded) JPEG")

    def get_url(self, photo) -> str:
        return reverse("rollout:report-photo", kwargs={"pk": photo.report_id, "position": photo.position})


class ReportOutputSerializer(serializers.ModelSerializer):
    village = serializers.CharField(source="village.code")
    village_name = serializers.CharField(source="village.name")
    regency = serializers.CharField(source="village.regency.code")
    submitted_by = serializers.CharField(source="submitted_by.username")
    submitted_at = serializers.DateTimeField(help_text="When the server received the report.")
    captured_at = serializers.DateTimeField(
        help_text="When the officer recorded the report (the device's time): the time the report describes."
    )
    late = serializers.BooleanField(
        help_text="Captured before the village's latest verified report: recorded, and it never changes the status."
    )
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False, allow_null=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", default=None, allow_null=True)
    photos = ReportPhotoSerializer(many=True, read_only=True)

    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "village",
            "village_name",
            "regency",
            *STATUS_FIELDS,
            "note",
            "evidence_url",
            "submitted_by",
            "submitted_at",
            "captured_at",
            "client_uuid",
            "late",
            "latitude",
            "longitude",
            "photos",
            "is_correction",
            "status",
            "reviewed_by",
            "reviewed_at",
            "rejection_reason",
            "superseded",
        ]


class SnapshotSerializer(serializers.ModelSerializer):
    adopted_pct = serializers.FloatField()
    adopted_desa_pct = serializers.FloatField(allow_null=True, help_text="null where the unit has no desa")
    target_pct = serializers.SerializerMethodField(help_text="The programme's adoption target for the snapshot's year")

    def get_target_pct(self, snapshot) -> int:
        return self.context["targets"].get(snapshot.date.year, selectors.DEFAULT_TARGET_PCT)

    class Meta:
        model = AdoptionSnapshot
        exclude = ["id"]


class ForecastSerializer(serializers.Serializer):
    status = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    slope_per_month = serializers.FloatField(allow_null=True)


class AdoptionRowSerializer(SnapshotSerializer):
    forecast = ForecastSerializer(help_text="An estimate from the snapshot trend, not a promise.")

    class Meta(SnapshotSerializer.Meta):
        pass


# --- input ----------------------------------------------------------------------------------------


class ReportFieldsInput(serializers.Serializer):
    pillar1 = serializers.ChoiceField(choices=PillarStatus.choices)
    pillar2 = serializers.ChoiceField(choices=PillarStatus.choices)
    pillar3 = serializers.ChoiceField(choices=PillarStatus.choices)
    signal = serializers.ChoiceField(choices=Signal.choices)
    signal_sufficient = serializers.BooleanField()
    blocker = serializers.ChoiceField(choices=Blocker.choices, required=False, allow_blank=True, default="")
    blocker_note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    evidence_url = serializers.URLField(max_length=200, required=False, allow_blank=True, default="")


class CaptureTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its UTC offset (the device's clock and zone): a time without one is ambiguous."""

    default_error_messages = {"offset": _("Give the time with its UTC offset, e.g. 2026-12-01T09:30:00+07:00.")}

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("offset")
        return super().to_internal_value(value)


class CaptureInput(serializers.Serializer):
    """What a device adds to a report (field capture); every field optional for other systems."""

    client_uuid = serializers.UUIDField(
        required=False, allow_null=True, help_text="The device's id of the report: a report sent again is stored once."
    )
    captured_at = CaptureTimeField(
        required=False,
        allow_null=True,
        help_text="When the officer recorded the report, ISO 8601 with offset (default: now). At most 5 minutes "
        "ahead of the server's clock, not before 2022.",
    )
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)


class ReportCaptureInput(ReportFieldsInput, CaptureInput):
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="Up to 3 JPEG, PNG or WebP images of at most 10 MB each (multipart/form-data only).",
    )


class BulkRowInput(ReportFieldsInput, CaptureInput):
    village = serializers.RegexField(VILLAGE_CODE_RE)


class BulkInput(serializers.Serializer):
    district = serializers.RegexField(DISTRICT_CODE_RE)
    reports = BulkRowInput(many=True, allow_empty=False, max_length=1000)


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AdoptionQuery(serializers.Serializer):
    level = serializers.ChoiceField(choices=SnapshotLevel.choices, default=SnapshotLevel.REGENCY)
    parent = serializers.CharField(max_length=13, required=False)


class HistoryQuery(serializers.Serializer):
    code = serializers.RegexField(r"^[0-9]{2}(\.[0-9]{2}){0,2}$")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


def _coordinate(value: float | None) -> Decimal | None:
    """A coordinate as stored: six decimals (about 0.1 m), whatever precision the device gave."""
    return None if value is None else round(Decimal(repr(value)), 6)


def _report_input(village: Village, data: dict) -> services.ReportInput:
    fields = {k: v for k, v in data.items() if k not in ("village", "photos")}
    for name in ("latitude", "longitude"):
        if name in fields:
            fields[name] = _coordinate(fields[name])
    return services.ReportInput(village=village, **fields)


# --- views ----------------------------------------------------------------------------------------


class RolloutFilter(django_filters.FilterSet):
    regency = django_filters.CharFilter(field_name="regency__code")
    district = django_filters.CharFilter(field_name="district__code")
    adopted = django_filters.TypedChoiceFilter(
        field_name="is_adopted", choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )
    blocker = django_filters.ChoiceFilter(field_name="rollout__blocker", choices=Blocker.choices)

    class Meta:
        model = Village
        fields = ["regency", "district", "adopted", "blocker"]


@lookup_any_segment(CODE_PARAMETER)
class RolloutViewSet(ValuesListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Current rollout status per village. PATCH: province staff corrections (recorded as verified reports)."""

    serializer_class = VillageRolloutSerializer
    filterset_class = RolloutFilter
    search_fields = ["name", "^code"]
    lookup_field = "code"

    def get_queryset(self):
        return selectors.village_rollout_list(user=self.request.user)

    def get_permissions(self):
        if self.action == "partial_update":
            return [IsAuthenticated(), requires(Capability.VERIFY_REPORTS)()]
        if self.action == "reports":
            return [IsAuthenticated(), requires(Capability.SUBMIT_REPORTS)()]
        return [IsAuthenticated(), requires(Capability.READ)()]

    @extend_schema(request=ReportFieldsInput, responses=VillageRolloutSerializer)
    def partial_update(self, request, code=None):
        village = self.get_object()
        data = validated(ReportFieldsInput, request.data)
        services.status_correct(actor=request.user, item=_report_input(village, data))
        return Response(VillageRolloutSerializer(self.get_queryset().get(pk=village.pk)).data)

    @extend_schema(
        request={"application/json": ReportCaptureInput, "multipart/form-data": ReportCaptureInput},
        responses={
            201: ReportOutputSerializer,
            200: OpenApiResponse(ReportOutputSerializer, description="The report was sent before: the original."),
            409: OpenApiResponse(description="The client_uuid names another report; nothing was stored."),
        },
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(
        detail=True,
        methods=["post"],
        filter_backends=[],
        # The one endpoint that takes files (a report's photos): multipart is refused (415) everywhere else.
        parser_classes=[JSONParser, FormParser, MultiPartParser],
    )
    def reports(self, request, code=None):
        """Submit a progress report on a village of the officer's own regency, with up to 3 photos (multipart).

        Sent again with the same `client_uuid` and content, it answers 200 with the original report; with
        other content, 409. README "Field capture (offline)".
        """
        village = self.get_object()

        def run():
            data = validated(ReportCaptureInput, request.data)
            received = services.report_receive(
                actor=request.user, item=_report_input(village, data), photos=data["photos"]
            )
            report = selectors.report_list(user=request.user).prefetch_related("photos").get(pk=received.report.pk)
            return Response(ReportOutputSerializer(report).data, status=201 if received.created else 200)

        return idempotent(request, run)


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    regency = django_filters.CharFilter(field_name="village__regency__code")
    district = django_filters.CharFilter(field_name="village__district__code")
    village = django_filters.CharFilter(field_name="village__code")

    class Meta:
        model = ProgressReport
        fields = ["status", "regency", "district", "village"]


@lookup_any_segment(OpenApiParameter("id", int, OpenApiParameter.PATH, description="Report id"))
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Progress reports: the append-only history. Verify/reject: province staff."""

    serializer_class = ReportOutputSerializer
    filterset_class = ReportFilter

    def get_queryset(self):
        return selectors.report_list(user=self.request.user).prefetch_related("photos")

    def get_permissions(self):
        if self.action in ("verify", "reject"):
            return [IsAuthenticated(), requires(Capability.VERIFY_REPORTS)()]
        if self.action == "bulk":
            return [IsAuthenticated(), requires(Capability.SUBMIT_REPORTS)()]
        return [IsAuthenticated(), requires(Capability.READ)()]

    @extend_schema(request=None, responses=ReportOutputSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        report = services.report_verify(report=self.get_object(), actor=request.user)
        return Response(ReportOutputSerializer(self.get_queryset().get(pk=report.pk)).data)

    @extend_schema(request=RejectInput, responses=ReportOutputSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        report = self.get_object()
        data = validated(RejectInput, request.data)
        report = services.report_reject(report=report, actor=request.user, reason=data["reason"])
        return Response(ReportOutputSerializer(self.get_queryset().get(pk=report.pk)).data)

    @extend_schema(
        request=BulkInput,
        responses={201: ReportOutputSerializer(many=True), 200: ReportOutputSerializer(many=True)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request):
        """Reports for many villages of one district: all or nothing, errors keyed by row."""

        def run():
            data = validated(BulkInput, request.data)
            district = get_object_or_404(District, code=data["district"])
            codes = [row["village"] for row in data["reports"]]
            villages = Village.objects.in_bulk(codes, field_name="code")
            missing = {str(i): {"village": ["Unknown village code."]} for i, c in enumerate(codes) if c not in villages}
            if missing:
                raise ApplicationError("Unknown village codes; nothing was submitted.", fields={"reports": missing})
            items = [_report_input(villages[row["village"]], row) for row in data["reports"]]
            reports, created = services.reports_receive_bulk(actor=request.user, district=district, items=items)
            rows = self.get_queryset().filter(pk__in=[r.pk for r in reports]).order_by("village__code")
            # 200 when every row was sent before (the originals, as for one report).
            return Response(ReportOutputSerializer(rows, many=True).data, status=201 if created else 200)

        return idempotent(request, run)


class AdoptionView(APIView):
    """Latest adoption snapshot per unit of a level, with a forecast of reaching 100 %."""

    permission_classes = [IsAuthenticated, requires(Capability.READ)]

    @extend_schema(parameters=[AdoptionQuery], responses=AdoptionRowSerializer(many=True))
    def get(self, request):
        query = validated(AdoptionQuery, request.query_params)
        rows = selectors.latest_snapshots(user=request.user, level=query["level"], parent=query.get("parent"))
        forecasts = selectors.forecasts(user=request.user, level=query["level"])
        for row in rows:
            row.forecast = forecasts.get(row.code, selectors.Forecast("no_data"))
        context = {"targets": selectors.targets()}
        return Response(AdoptionRowSerializer(rows, many=True, context=context).data)


class AdoptionHistoryView(APIView):
    """Snapshots of one unit over time (adoption trend)."""

    permission_classes = [IsAuthenticated, requires(Capability.READ)]

    @extend_schema(parameters=[HistoryQuery], responses=SnapshotSerializer(many=True))
    def get(self, request):
        query = validated(HistoryQuery, request.query_params)
        rows = selectors.snapshot_history(
            user=request.user, code=query["code"], date_from=query.get("date_from"), date_to=query.get("date_to")
        )
        return Response(SnapshotSerializer(rows, many=True, context={"targets": selectors.targets()}).data)


class PaidNotLiveSerializer(MissingAsDefaultMixin, serializers.ModelSerializer):
    grant = serializers.IntegerField(source="pk")
    village = serializers.CharField(source="village.code")
    village_name = serializers.CharField(source="village.name")
    district_name = serializers.CharField(source="village.district.name")
    regency = serializers.CharField(source="village.regency.code")
    grant_status = serializers.CharField(source="status")
    pillar1 = serializers.CharField(source="village.rollout.pillar1", default=PillarStatus.NOT_STARTED)
    blocker = serializers.CharField(source="village.rollout.blocker", default="")

    class Meta:
        model = Grant
        fields = [
            "grant",
            "allocation",
            "village",
            "village_name",
            "district_name",
            "regency",
            "amount",
            "grant_status",
            "pillar1",
            "blocker",
        ]


class PaidNotLiveFilter(django_filters.FilterSet):
    regency = django_filters.CharFilter(field_name="village__regency__code")
    allocation = django_filters.NumberFilter(field_name="allocation_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = Grant
        fields = ["regency", "allocation"]


class PaidNotLiveView(ListAPIView):
    """Villages whose grant was disbursed but that are not adopted: money without a result yet."""

    permission_classes = [IsAuthenticated, requires(Capability.READ)]
    serializer_class = PaidNotLiveSerializer
    filterset_class = PaidNotLiveFilter

    def get_queryset(self):
        return selectors.paid_not_live(user=self.request.user)
