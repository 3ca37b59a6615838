"""Reads for the reconciliation: an allocation's disbursements as the matching core takes them."""

from __future__ import annotations

from collections import defaultdict

from grants.models import Allocation, Disbursement, Grant
from treasury.matching import DisbursementRef, GrantRef


def disbursement_refs(*, allocation: Allocation) -> list[DisbursementRef]:
    """Every disbursement (SP2D) of the allocation with the grants it pays: two queries, whatever the size."""
    grants: dict[int, list[GrantRef]] = defaultdict(list)
    rows = (
        Grant.objects.filter(allocation=allocation, disbursement__isnull=False)
        .order_by("village__code")
        .values_list("disbursement_id", "pk", "village__code", "village__name", "amount")
    )
    for disbursement_id, grant_id, code, name, amount in rows:
        grants[disbursement_id].append(GrantRef(id=grant_id, village_code=code, village_name=name, amount=amount))
    disbursements = (
        Disbursement.objects.filter(allocation=allocation)
        .order_by("transfer_date", "pk")
        .values_list("pk", "reference", "amount", "transfer_date")
    )
    return [
        DisbursementRef(
            id=pk, reference=reference, amount=amount, transfer_date=transfer_date, grants=tuple(grants[pk])
        )
        for pk, reference, amount, transfer_date in disbursements
    ]
