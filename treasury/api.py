"""REST API of the reconciliation. Thin: validate input, call treasury.services, serialise output.

`POST /api/v1/allocations/{id}/statements/` is the one view of the API taking a multipart body (the
statement file in `file`); every other view answers 415 to one.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.access import Capability, regency_scope, requires
from grants import selectors as grant_selectors
from grants.models import Allocation
from smartvillage.api import validated
from smartvillage.errors import ApplicationError
from treasury import selectors
from treasury.models import Outcome, OutcomeKind, Statement
from treasury.parsers import columns_parse, statement_parse
from treasury.services import ImportReport, reason_from_json, statement_import, upload_read


def _allocation(request, pk: int) -> Allocation:
    return get_object_or_404(grant_selectors.allocation_list(user=request.user), pk=pk)


# --- input ----------------------------------------------------------------------------------------


class StatementUploadInput(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text="The statement: .csv, .xlsx, MT940 .sta/.mt940/.txt (format from its name)."
    )
    dry_run = serializers.BooleanField(default=False, help_text="Reconcile and answer the counts; write nothing.")
    columns = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="CSV/XLSX in another layout: column=Header pairs (tanggal, keterangan, referensi_bank, debet, "
        "kredit, saldo), e.g. 'tanggal=Tgl,debet=Mutasi Debet'.",
    )


class OutcomeQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OutcomeKind.choices, required=False)
    open = serializers.BooleanField(required=False, allow_null=True, default=None)


# --- output ---------------------------------------------------------------------------------------


class FiguresSerializer(serializers.Serializer):
    """Per outcome (matched, amount_mismatch, duplicate, unmatched_line, unmatched_disbursement, returned)."""

    matched = serializers.IntegerField()
    amount_mismatch = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    unmatched_line = serializers.IntegerField()
    unmatched_disbursement = serializers.IntegerField()
    returned = serializers.IntegerField()


class ImportReportSerializer(serializers.Serializer):
    statement = serializers.IntegerField(allow_null=True, help_text="The statement's id; null for a dry run.")
    dry_run = serializers.BooleanField()
    already_imported = serializers.BooleanField(help_text="The file was imported before: nothing changed.")
    file_name = serializers.CharField()
    format = serializers.CharField()
    sha256 = serializers.CharField()
    period_from = serializers.DateField(allow_null=True)
    period_to = serializers.DateField(allow_null=True)
    lines = serializers.IntegerField()
    new_lines = serializers.IntegerField()
    known_lines = serializers.IntegerField(help_text="Lines an earlier statement already brought: not counted again.")
    debit_total = serializers.IntegerField(help_text="Rupiah: the file's debits.")
    known_debit = serializers.IntegerField()
    credit_total = serializers.IntegerField()
    other_credits = serializers.IntegerField(help_text="Credit lines returning no SP2D (interest): no outcome.")
    counts = FiguresSerializer()
    amounts = FiguresSerializer(help_text="Rupiah per outcome; the bank's amount where there is a line.")


def report_data(report: ImportReport) -> dict:
    return {
        **report.as_dict(),
        "statement": report.statement.pk if report.statement is not None else None,
        "dry_run": report.dry_run,
        "already_imported": report.already_imported,
    }


class StatementSerializer(serializers.ModelSerializer):
    imported_by = serializers.CharField(source="imported_by.username")
    counts = serializers.DictField(source="summary.counts", child=serializers.IntegerField())
    amounts = serializers.DictField(source="summary.amounts", child=serializers.IntegerField())

    class Meta:
        model = Statement
        fields = [
            "id",
            "file_name",
            "format",
            "sha256",
            "account",
            "period_from",
            "period_to",
            "opening_balance",
            "closing_balance",
            "debit_total",
            "credit_total",
            "imported_by",
            "imported_at",
            "counts",
            "amounts",
        ]


class ScopedStatementSerializer(serializers.ModelSerializer):
    """A statement as a regency officer sees it: which file covers which period, not the province's money."""

    class Meta:
        model = Statement
        fields = ["id", "file_name", "format", "period_from", "period_to", "imported_at"]


class LineSerializer(serializers.Serializer):
    line_number = serializers.IntegerField(help_text="The line in the file (the header is line 1).")
    date = serializers.DateField()
    description = serializers.CharField()
    bank_reference = serializers.CharField()
    debit = serializers.IntegerField()
    credit = serializers.IntegerField()


class OutcomeSerializer(serializers.ModelSerializer):
    reason = serializers.SerializerMethodField(help_text="Why, in the reader's language.")
    reason_code = serializers.CharField(source="reason.code")
    line = LineSerializer(allow_null=True)
    sp2d = serializers.CharField(source="disbursement.reference", allow_null=True, default=None)
    village = serializers.CharField(source="grant.village.code", allow_null=True, default=None)
    regency = serializers.CharField(source="regency.code", allow_null=True, default=None)
    resolved = serializers.BooleanField()
    open = serializers.BooleanField(source="is_open")

    class Meta:
        model = Outcome
        fields = [
            "id",
            "statement",
            "kind",
            "amount",
            "reason",
            "reason_code",
            "line",
            "sp2d",
            "grant",
            "village",
            "regency",
            "resolved",
            "open",
        ]

    def get_reason(self, outcome: Outcome) -> str:
        return str(reason_from_json(outcome.reason))


# --- views ----------------------------------------------------------------------------------------


class StatementView(ListAPIView):
    """GET: the statements imported for the allocation (readers). POST (multipart, the file in `file`): import
    a statement, or with `dry_run` say what the import would find (province staff and administrators).
    Answers the counts and amounts per outcome; a refused file is a 400 naming its lines."""

    parser_classes = [MultiPartParser]
    filter_backends = []

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), requires(Capability.RECONCILE)()]
        return [IsAuthenticated(), requires(Capability.READ)()]

    def get_serializer_class(self):
        if regency_scope(self.request.user) is not None:
            return ScopedStatementSerializer
        return StatementSerializer

    def get_queryset(self) -> QuerySet[Statement]:
        return selectors.statement_list(allocation=_allocation(self.request, self.kwargs["pk"]))

    @extend_schema(request={"multipart/form-data": StatementUploadInput}, responses={201: ImportReportSerializer})
    def post(self, request, pk: int):
        allocation = _allocation(request, pk)
        data = validated(StatementUploadInput, request.data)
        upload = data["file"]
        try:
            mapping = columns_parse(data["columns"]) if data.get("columns") else None
        except ValueError as exc:
            raise ApplicationError(str(exc), fields={"columns": [str(exc)]}) from None
        parsed = statement_parse(data=upload_read(file=upload), file_name=upload.name or "", columns=mapping)
        report = statement_import(allocation=allocation, parsed=parsed, actor=request.user, dry_run=data["dry_run"])
        created = report.statement is not None and not report.already_imported
        return Response(report_data(report), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class OutcomeListView(ListAPIView):
    """The reconciliation's outcomes of the allocation, each with its reason and bank line (officers: their
    regency's only). Filters: `kind`, `open` (an item staff still have to resolve)."""

    permission_classes = [IsAuthenticated, requires(Capability.READ)]
    serializer_class = OutcomeSerializer
    filter_backends = []

    @extend_schema(parameters=[OutcomeQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Outcome]:
        allocation = _allocation(self.request, self.kwargs["pk"])
        query = validated(OutcomeQuery, self.request.query_params)
        outcomes = selectors.outcome_list(allocation=allocation, user=self.request.user)
        if query.get("kind"):
            outcomes = outcomes.filter(kind=query["kind"])
        if query.get("open") is not None:
            outcomes = outcomes.filter(is_open=query["open"])
        return outcomes
