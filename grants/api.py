"""REST API of allocations and grants. Thin: validate input, call grants.services, serialise output."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.access import Capability, requires
from accounts.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from grants import selectors, services
from grants.filters import MAX_ID, GrantFilter
from grants.models import Allocation, Grant, GrantEvent
from smartvillage.api import ValuesListMixin, lookup_any_segment, validated
from villages.models import REGENCY_CODE_RE, Province, Regency

AMOUNT_LIMITS = {"min_value": 1, "max_value": services.MAX_AMOUNT}


# --- output ---------------------------------------------------------------------------------------


class AllocationOutputSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province.code")
    committed_amount = serializers.SerializerMethodField(
        help_text="Rupiah committed to non-cancelled grants; for a regency officer, the own regency's only."
    )

    class Meta:
        model = Allocation
        fields = [
            "id",
            "province",
            "fiscal_year",
            "funding_source",
            "legal_basis",
            "total_amount",
            "unit_amount",
            "committed_amount",
            "status",
            "created_at",
        ]

    def get_committed_amount(self, allocation: Allocation) -> int:
        # Listed allocations carry what the reader may see (grants.selectors.allocation_list);
        # one just written by a province role carries the province-wide sum it may see anyway.
        return getattr(allocation, "committed", allocation.committed_amount)


class LedgerRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    units = serializers.IntegerField()
    cancelled_units = serializers.IntegerField()
    # Committed money (grants.selectors.committed); `planned` is the API's name, kept for its clients.
    planned = serializers.IntegerField(source="committed", help_text="Committed: the amounts of non-cancelled grants.")
    approved = serializers.IntegerField()
    disbursed = serializers.IntegerField()
    returned = serializers.IntegerField()
    net_disbursed = serializers.IntegerField()
    accounted = serializers.IntegerField()
    to_disburse = serializers.IntegerField()
    disbursed_pct = serializers.FloatField()
    accounted_pct = serializers.FloatField()


class LedgerSerializer(serializers.Serializer):
    allocation = serializers.IntegerField(source="summary.allocation.id")
    total_amount = serializers.IntegerField(source="summary.allocation.total_amount")
    unallocated = serializers.IntegerField(source="summary.unallocated")
    budget = serializers.IntegerField(
        source="summary.budget",
        help_text="What `remaining` and the shares are of: the allocation's total; for a regency officer, "
        "the own regency's planned grants.",
    )
    disbursed = serializers.IntegerField(source="summary.disbursed", help_text="Gross: every grant paid.")
    returned = serializers.IntegerField(source="summary.returned", help_text="Paid back to the treasury.")
    net_disbursed = serializers.IntegerField(source="summary.net_disbursed", help_text="Disbursed minus returned.")
    remaining = serializers.IntegerField(source="summary.remaining", help_text="Budget minus net disbursed (sisa).")
    disbursed_pct_of_total = serializers.FloatField(source="summary.disbursed_pct_of_total")
    net_disbursed_pct_of_total = serializers.FloatField(source="summary.net_disbursed_pct_of_total")
    level = serializers.CharField()
    totals = LedgerRowSerializer(source="summary.totals")
    rows = LedgerRowSerializer(many=True)


class GrantEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")

    class Meta:
        model = GrantEvent
        fields = ["action", "from_status", "to_status", "actor", "created_at", "amount", "reference", "note"]


class GrantOutputSerializer(serializers.ModelSerializer):
    village = serializers.CharField(source="village.code")
    village_name = serializers.CharField(source="village.name")
    village_kind = serializers.CharField(source="village.kind")
    district = serializers.CharField(source="village.district.code")
    district_name = serializers.CharField(source="village.district.name")
    regency = serializers.CharField(source="village.regency.code")
    regency_name = serializers.CharField(source="village.regency.name")
    # Null until the grant is paid.
    transfer_reference = serializers.CharField(source="disbursement.reference", default=None, allow_null=True)
    transfer_date = serializers.DateField(source="disbursement.transfer_date", default=None, allow_null=True)

    class Meta:
        model = Grant
        fields = [
            "id",
            "allocation",
            "village",
            "village_name",
            "village_kind",
            "district",
            "district_name",
            "regency",
            "regency_name",
            "amount",
            "status",
            "approved_at",
            "transfer_reference",
            "transfer_date",
            "returned_amount",
            "spent_amount",
            "report_note",
            "report_url",
            "accounted_at",
            "closed_at",
            "cancelled_at",
        ]


class GrantDetailSerializer(GrantOutputSerializer):
    events = GrantEventSerializer(many=True)

    class Meta(GrantOutputSerializer.Meta):
        fields = [*GrantOutputSerializer.Meta.fields, "events"]


# --- input ----------------------------------------------------------------------------------------


class AllocationCreateInput(serializers.Serializer):
    province = serializers.SlugRelatedField(slug_field="code", queryset=Province.objects.filter(is_active=True))
    fiscal_year = serializers.IntegerField(min_value=2000, max_value=2100)
    funding_source = serializers.CharField(max_length=100, default="APBD Provinsi Lampung")
    legal_basis = serializers.CharField(max_length=200)
    unit_amount = serializers.IntegerField(default=services.GRANT_UNIT_AMOUNT, **AMOUNT_LIMITS)
    total_amount = serializers.IntegerField(required=False, **AMOUNT_LIMITS)


class AllocationUpdateInput(serializers.Serializer):
    legal_basis = serializers.CharField(max_length=200, required=False)
    total_amount = serializers.IntegerField(required=False, **AMOUNT_LIMITS)
    unit_amount = serializers.IntegerField(required=False, **AMOUNT_LIMITS)


class PlanInput(serializers.Serializer):
    regency = serializers.SlugRelatedField(
        slug_field="code", queryset=Regency.objects.filter(is_active=True), required=False, allow_null=True
    )


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class DisburseInput(NoteInput):
    reference = serializers.CharField(max_length=100)
    transfer_date = serializers.DateField()


class AccountInput(NoteInput):
    spent_amount = serializers.IntegerField(min_value=0, max_value=services.MAX_AMOUNT)
    document_url = serializers.URLField(max_length=200, required=False, default="", allow_blank=True)


class ReturnInput(NoteInput):
    amount = serializers.IntegerField(**AMOUNT_LIMITS)
    reference = serializers.CharField(max_length=100)


class LedgerQuery(serializers.Serializer):
    level = serializers.ChoiceField(choices=selectors.LEVELS, default="regency")
    regency = serializers.RegexField(
        REGENCY_CODE_RE, required=False, help_text="Only this regency's rows (for level=district), e.g. 18.01"
    )


class BatchInput(NoteInput):
    regency = serializers.SlugRelatedField(slug_field="code", queryset=Regency.objects.all())
    grant_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=False,
        max_length=10_000,
    )


class BatchDisburseInput(BatchInput):
    reference = serializers.CharField(max_length=100)
    transfer_date = serializers.DateField()


class BatchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.IntegerField()
    grants = serializers.ListField(child=serializers.IntegerField())


class PlanResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    amount = serializers.IntegerField()


# --- views ----------------------------------------------------------------------------------------


def _batch_result(grants: list[Grant]) -> Response:
    return Response(
        BatchResultSerializer(
            {"count": len(grants), "amount": sum(g.amount for g in grants), "grants": [g.pk for g in grants]}
        ).data
    )


@lookup_any_segment(OpenApiParameter("id", int, OpenApiParameter.PATH, description="Allocation id"))
class AllocationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """APBD allocations of the smart-village grant. Writes: province administrators; batches: province staff."""

    serializer_class = AllocationOutputSerializer
    filterset_fields = ["fiscal_year", "status"]
    search_fields = []

    def get_queryset(self):
        return selectors.allocation_list(user=self.request.user)

    def get_permissions(self):
        if self.action in (None, "list", "retrieve", "ledger"):
            # None: a method with no route here; DRF answers 405 after authentication.
            return [IsAuthenticated(), requires(Capability.READ)()]
        if self.action.startswith("batch_"):
            return [IsAuthenticated(), requires(Capability.MOVE_GRANTS)()]
        return [IsAuthenticated(), requires(Capability.MANAGE_ALLOCATIONS)()]

    @extend_schema(request=AllocationCreateInput, responses={201: AllocationOutputSerializer})
    def create(self, request):
        data = validated(AllocationCreateInput, request.data)
        allocation = services.allocation_create(actor=request.user, **data)
        return Response(AllocationOutputSerializer(allocation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AllocationUpdateInput, responses=AllocationOutputSerializer)
    def partial_update(self, request, pk=None):
        data = validated(AllocationUpdateInput, request.data)
        allocation = services.allocation_update(allocation=self.get_object(), actor=request.user, **data)
        return Response(AllocationOutputSerializer(allocation).data)

    @extend_schema(parameters=[LedgerQuery], responses=LedgerSerializer)
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        """Totals per province, regency or district: planned, approved, disbursed, returned, accounted."""
        allocation = self.get_object()
        query = validated(LedgerQuery, request.query_params)
        level = query["level"]
        rows = selectors.ledger(
            allocation=allocation, user=request.user, level=level, regency_code=query.get("regency")
        )
        summary = selectors.allocation_summary(allocation=allocation, user=request.user)
        return Response(LedgerSerializer({"summary": summary, "level": level, "rows": rows}).data)

    @extend_schema(request=PlanInput, responses=PlanResultSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        """Plan a grant at the default amount for every active village (of one regency) still missing."""
        allocation = self.get_object()

        def run():
            data = validated(PlanInput, request.data)
            result = services.allocation_plan(allocation=allocation, actor=request.user, regency=data.get("regency"))
            return Response(PlanResultSerializer(result).data)

        return idempotent(request, run)

    @extend_schema(request=None, responses=AllocationOutputSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        allocation = services.allocation_activate(allocation=self.get_object(), actor=request.user)
        return Response(AllocationOutputSerializer(allocation).data)

    @extend_schema(request=None, responses=AllocationOutputSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        allocation = services.allocation_close(allocation=self.get_object(), actor=request.user)
        return Response(AllocationOutputSerializer(allocation).data)

    def _run_batch(self, request, input_class, service):
        allocation = self.get_object()

        def run():
            data = validated(input_class, request.data)
            return _batch_result(service(allocation=allocation, actor=request.user, **data))

        return idempotent(request, run)

    @extend_schema(request=BatchInput, responses=BatchResultSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], url_path="batch/approve")
    def batch_approve(self, request, pk=None):
        return self._run_batch(request, BatchInput, services.grants_approve_batch)

    @extend_schema(request=BatchDisburseInput, responses=BatchResultSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], url_path="batch/disburse")
    def batch_disburse(self, request, pk=None):
        return self._run_batch(request, BatchDisburseInput, services.grants_disburse_batch)

    @extend_schema(request=BatchInput, responses=BatchResultSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], url_path="batch/cancel")
    def batch_cancel(self, request, pk=None):
        return self._run_batch(request, BatchInput, services.grants_cancel_batch)


@lookup_any_segment(OpenApiParameter("id", int, OpenApiParameter.PATH, description="Grant id"))
class GrantViewSet(ValuesListMixin, viewsets.ReadOnlyModelViewSet):
    """Grants, one per village per allocation, with their audit trail. Actions: province staff."""

    filterset_class = GrantFilter
    search_fields = ["village__name", "^village__code"]

    def get_queryset(self):
        queryset = selectors.grant_list(user=self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("events__actor")
        return queryset

    def get_serializer_class(self):
        return GrantDetailSerializer if self.action == "retrieve" else GrantOutputSerializer

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated(), requires(Capability.READ)()]
        return [IsAuthenticated(), requires(Capability.MOVE_GRANTS)()]

    def _run(self, request, input_class, service):
        grant = self.get_object()

        def run():
            data = validated(input_class, request.data)
            moved = service(grant=grant, actor=request.user, **data)
            return Response(
                GrantDetailSerializer(self.get_queryset().prefetch_related("events__actor").get(pk=moved.pk)).data
            )

        return idempotent(request, run)

    @extend_schema(request=NoteInput, responses=GrantDetailSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._run(request, NoteInput, services.grant_approve)

    @extend_schema(request=DisburseInput, responses=GrantDetailSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"])
    def disburse(self, request, pk=None):
        return self._run(request, DisburseInput, services.grant_disburse)

    @extend_schema(request=AccountInput, responses=GrantDetailSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"])
    def account(self, request, pk=None):
        return self._run(request, AccountInput, services.grant_account)

    @extend_schema(request=ReturnInput, responses=GrantDetailSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        return self._run(request, ReturnInput, services.grant_return)

    @extend_schema(request=NoteInput, responses=GrantDetailSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._run(request, NoteInput, services.grant_close)

    @extend_schema(request=NoteInput, responses=GrantDetailSerializer, parameters=[IDEMPOTENCY_PARAMETER])
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._run(request, NoteInput, services.grant_cancel)
