"""Demo grant data for the embedded mode: the 2024 allocation with a realistic spread of states.

Everything goes through grants.services, so the demo has the same events and
invariants as real use. Deterministic (seeded), so every `make run` shows the same figures.
"""

import datetime
import random

from django.db import transaction

from accounts.models import User
from grants import services
from grants.models import Allocation, Grant, GrantStatus
from villages.models import Province, Regency

DEMO_YEAR = 2024
DEMO_LEGAL_BASIS = "DEMO - Keputusan Gubernur Lampung (contoh data)"


@transaction.atomic
def demo_grants_seed(*, admin: User, staff: User, province_code: str = "18") -> Allocation | None:
    """Create the demo allocation unless it exists; return it, or None if it already existed."""
    province = Province.objects.get(code=province_code)
    if Allocation.objects.filter(province=province, fiscal_year=DEMO_YEAR).exists():
        return None
    rng = random.Random(DEMO_YEAR)  # noqa: S311 - demo data, not security
    allocation = services.allocation_create(
        actor=admin, province=province, fiscal_year=DEMO_YEAR, legal_basis=DEMO_LEGAL_BASIS
    )
    services.allocation_plan(allocation=allocation, actor=admin)
    services.allocation_activate(allocation=allocation, actor=admin)

    for regency in Regency.objects.filter(province=province, is_active=True).order_by("code"):
        planned = list(
            Grant.objects.filter(allocation=allocation, village__regency=regency).values_list("pk", flat=True)
        )
        approved = [pk for pk in planned if rng.random() < 0.97]
        if not approved:
            continue
        services.grants_approve_batch(allocation=allocation, regency=regency, actor=staff, grant_ids=approved)
        # Paid in up to three tranches (SP2D) per regency; some approved grants still wait.
        to_pay = [pk for pk in approved if rng.random() < 0.88]
        tranches = [to_pay[i::3] for i in range(3)]
        for number, tranche in enumerate(tranches, start=1):
            if tranche:
                services.grants_disburse_batch(
                    allocation=allocation,
                    regency=regency,
                    actor=staff,
                    grant_ids=tranche,
                    reference=f"DEMO-SP2D/{DEMO_YEAR}/{regency.code}/{number}",
                    transfer_date=datetime.date(DEMO_YEAR, 2 + 2 * number, 10 + number),
                )
        for grant in (
            Grant.objects.filter(pk__in=to_pay, status=GrantStatus.DISBURSED)
            .select_related("village")
            .order_by("village__code")
        ):
            if rng.random() >= 0.65:
                continue
            # Most villages spend it all; some return an unspent remainder.
            unspent = rng.choice([0, 0, 0, 0, 250_000, 500_000])
            grant = services.grant_account(
                grant=grant,
                actor=staff,
                spent_amount=grant.amount - unspent,
                note="LPJ (demo)",
            )
            if unspent:
                grant = services.grant_return(
                    grant=grant, actor=staff, amount=unspent, reference=f"DEMO-STS/{grant.village.code}"
                )
            if rng.random() < 0.5:
                services.grant_close(grant=grant, actor=staff)
    return allocation
