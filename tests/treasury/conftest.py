"""Fixtures of the treasury tests: an active allocation whose disbursements are made by the real grant
services (plan -> approve -> disburse, one SP2D per grant or per regency batch), as the matcher reads them."""

import pytest
from django.utils import timezone, translation

from accounts.models import Role
from grants import services
from grants.models import Allocation, Grant
from tests.factories import DistrictFactory, UserFactory, VillageFactory
from tests.treasury.statements import Scenario
from treasury.matching import DisbursementRef
from treasury.selectors import disbursement_refs
from villages.models import Province

# Real desa of Kecamatan Natar, Lampung Selatan: bank texts name villages like these.
NAMES = (
    "Hajimena",
    "Sidosari",
    "Pemanggilan",
    "Natar",
    "Muara Putih",
    "Merak Batin",
    "Negara Ratu",
    "Rulung Sari",
    "Rulung Mulya",
    "Rulung Raya",
    "Krawang Sari",
    "Bumi Sari",
    "Candimas",
    "Banjar Negeri",
    "Tanjung Sari",
    "Purwosari",
)
BATCH_SIZE = 3


@pytest.fixture
def staff(db):
    return UserFactory(username="staf.kas", role=Role.PROVINCE_STAFF)


@pytest.fixture
def natar(registry):
    district = DistrictFactory(regency=registry.regency_a, code="18.01.04", name="Natar")
    return [
        VillageFactory(district=district, code=f"18.01.04.{2001 + index}", name=name)
        for index, name in enumerate(NAMES)
    ]


@pytest.fixture
def allocation(natar, province_admin) -> Allocation:
    year = timezone.localdate().year
    allocation = services.allocation_create(
        actor=province_admin,
        province=Province.objects.get(code="18"),
        fiscal_year=year,
        legal_basis=f"Keputusan Gubernur Lampung tentang hibah desa cerdas TA {year}",
    )
    return services.allocation_activate(allocation=allocation, actor=province_admin)


def disburse(allocation: Allocation, staff, villages, *, singles: int, batches: int) -> list[DisbursementRef]:
    """`singles` grants paid with one SP2D each, then `batches` batches of BATCH_SIZE grants under one SP2D."""
    year = allocation.fiscal_year
    date = services.transfer_window(fiscal_year=year)[1]
    villages = iter(villages)
    for number in range(1, singles + 1):
        grant = services.grant_plan(allocation=allocation, village=next(villages), actor=staff)
        grant = services.grant_approve(grant=grant, actor=staff)
        services.grant_disburse(
            grant=grant, actor=staff, reference=f"SP2D NO.{number:04d}/BL/{year}", transfer_date=date
        )
    for number in range(1, batches + 1):
        members = [next(villages) for _ in range(BATCH_SIZE)]
        grants = [services.grant_plan(allocation=allocation, village=village, actor=staff) for village in members]
        grant_ids = [services.grant_approve(grant=grant, actor=staff).pk for grant in grants]
        services.grants_disburse_batch(
            allocation=allocation,
            regency=members[0].regency,
            actor=staff,
            reference=f"SP2D-{number:05d}/LS/{year}",
            transfer_date=date,
            grant_ids=grant_ids,
        )
    assert Grant.objects.filter(allocation=allocation, disbursement__isnull=False).count() == singles + batches * 3
    return disbursement_refs(allocation=allocation)


@pytest.fixture
def scenario() -> Scenario:
    return Scenario()


@pytest.fixture
def disbursements(allocation, staff, natar, scenario) -> list[DisbursementRef]:
    return disburse(allocation, staff, natar, singles=scenario.single_disbursements, batches=scenario.batches)


@pytest.fixture
def english():
    """Read the messages in English, whatever the default language (Bahasa Indonesia) is."""
    with translation.override("en"):
        yield
