"""Fixtures of the grants tests: an active allocation on the two-regency registry, and grants in any state.

Every grant here is brought to its state by the real services (plan -> approve -> disburse ->
account -> return/close), never by writing a status directly, so the helpers exercise the same
paths as production.
"""

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import factory
import pytest
from django.utils import timezone, translation

from accounts.models import Role
from grants import services
from grants.models import Allocation, Disbursement, Grant, GrantEvent, GrantStatus
from tests.factories import DistrictFactory, RegencyFactory, UserFactory, VillageFactory
from villages.models import Province, Village

UNIT = services.GRANT_UNIT_AMOUNT
# This year's allocation: a transfer dated today falls within its fiscal year (services.transfer_window).
FISCAL_YEAR = timezone.localdate().year

# Each state a helper can produce, and the services that lead there from nothing.
STATES = ("planned", "approved", "disbursed", "accounted", "closed", "returned", "cancelled")

_references = itertools.count(1)


def next_reference() -> str:
    """A fresh SP2D number: unique across the test session, so never refused as reused."""
    return f"SP2D-{next(_references):05d}/LS/2026"


class OtherProvinceFactory(factory.django.DjangoModelFactory):
    """A second province, for the rules about units outside the allocation's province."""

    class Meta:
        model = Province
        django_get_or_create = ("code",)

    code = "19"
    name = "Kepulauan Bangka Belitung"


@pytest.fixture
def english():
    """Read the services' messages in English, whatever the default language (Bahasa Indonesia) is."""
    with translation.override("en"):
        yield


@pytest.fixture
def other_province_village(db) -> Village:
    """An active village of province 19, outside every allocation of province 18."""
    regency = RegencyFactory(province=OtherProvinceFactory(), code="19.01", name="Kabupaten Bangka")
    return VillageFactory(district=DistrictFactory(regency=regency, code="19.01.01", name="Sungailiat"))


@pytest.fixture
def staff(db):
    return UserFactory(username="staf.hibah", role=Role.PROVINCE_STAFF)


@pytest.fixture
def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def make_allocation(registry, province_admin) -> Callable[..., Allocation]:
    """An allocation for province 18 of the registry, active unless told otherwise."""

    def make(*, fiscal_year: int = FISCAL_YEAR, activate: bool = True, **kwargs) -> Allocation:
        allocation = services.allocation_create(
            actor=province_admin,
            province=Province.objects.get(code="18"),
            fiscal_year=fiscal_year,
            legal_basis=f"Keputusan Gubernur Lampung tentang hibah desa cerdas TA {fiscal_year}",
            **kwargs,
        )
        if activate:
            allocation = services.allocation_activate(allocation=allocation, actor=province_admin)
        return allocation

    return make


@pytest.fixture
def allocation(make_allocation) -> Allocation:
    return make_allocation()


@dataclass
class GrantMaker:
    """Brings a grant to `state` through the services, one step at a time."""

    allocation: Allocation
    actor: object

    def free_village(self, *, allocation: Allocation, regency=None) -> Village:
        villages = Village.objects.filter(is_active=True, regency__province_id=allocation.province_id)
        if regency is not None:
            villages = villages.filter(regency=regency)
        return villages.exclude(grants__allocation=allocation).order_by("code").first()

    def __call__(
        self,
        state: str,
        *,
        village: Village | None = None,
        allocation: Allocation | None = None,
        regency=None,
        spent: int | None = None,
    ) -> Grant:
        assert state in STATES, state
        allocation = allocation or self.allocation
        village = village or self.free_village(allocation=allocation, regency=regency)
        grant = services.grant_plan(allocation=allocation, village=village, actor=self.actor)
        if state == "cancelled":
            return services.grant_cancel(grant=grant, actor=self.actor)
        if state == "planned":
            return grant
        grant = services.grant_approve(grant=grant, actor=self.actor)
        if state == "approved":
            return grant
        grant = services.grant_disburse(
            grant=grant,
            actor=self.actor,
            reference=next_reference(),
            transfer_date=services.transfer_window(fiscal_year=allocation.fiscal_year)[1],  # the latest date it accepts
        )
        if state == "disbursed":
            return grant
        if state == "returned":
            return services.grant_return(grant=grant, actor=self.actor, amount=grant.amount, reference=next_reference())
        grant = services.grant_account(
            grant=grant, actor=self.actor, spent_amount=grant.amount if spent is None else spent
        )
        if state == "accounted":
            return grant
        return services.grant_close(grant=grant, actor=self.actor)


@pytest.fixture
def make_grant(allocation, staff) -> GrantMaker:
    return GrantMaker(allocation=allocation, actor=staff)


@pytest.fixture
def snapshot() -> Callable[[Allocation], dict]:
    """Everything a refused action must leave untouched, as plain values to compare."""

    def take(allocation: Allocation) -> dict:
        allocation.refresh_from_db()
        return {
            "allocation": (allocation.status, allocation.total_amount, allocation.committed_amount),
            "grants": list(
                Grant.objects.order_by("pk").values_list(
                    "pk", "status", "amount", "returned_amount", "spent_amount", "disbursement_id", "updated_at"
                )
            ),
            "events": list(GrantEvent.objects.order_by("pk").values_list("pk", flat=True)),
            "disbursements": list(Disbursement.objects.order_by("pk").values_list("pk", "reference", "amount")),
        }

    return take


@pytest.fixture
def live_committed() -> Callable[[Allocation], int]:
    """The committed amount recomputed from the grants themselves, independently of the services."""

    def total(allocation: Allocation) -> int:
        return sum(
            Grant.objects.filter(allocation=allocation)
            .exclude(status=GrantStatus.CANCELLED)
            .values_list("amount", flat=True)
        )

    return total
