"""The public pages' world: the two-regency registry with grants in every state and reports of every kind,
each carrying personal data and free text that must never be published (SECRETS), made through the services."""

import datetime
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Role, User
from grants import services as grant_services
from grants.models import Allocation, Grant
from rollout import services
from rollout.models import Blocker, PillarStatus, Signal
from tests.factories import UserFactory
from tests.rollout.conftest import (  # noqa: F401 (fixtures)
    ro_allocation,
    ro_officer_of,
    ro_report_input,
    ro_submitted,
)
from villages.models import Village

# Every one of these is written into the database by someone, and none may appear on a public page or file.
SECRET = "RAHASIA-PRIBADI"
SECRETS = {
    "officer_name": f"Budi {SECRET}-NAMA",
    "officer_email": "budi.rahasia@contoh.go.id",
    "officer_username": "petugas.rahasia",
    "staff_username": "staf.rahasia",
    "report_note": f"Catatan laporan {SECRET}-CATATAN",
    "blocker_note": f"Menara BTS rusak {SECRET}-HAMBATAN",
    "evidence_url": "https://bukti.contoh.go.id/foto-rahasia.jpg",
    "rejection_reason": f"Foto buram {SECRET}-ALASAN",
    "lpj_note": f"LPJ lengkap {SECRET}-LPJ",
    "lpj_document": "https://dokumen.contoh.go.id/lpj-rahasia.pdf",
    "grant_note": f"Disetujui kepala dinas {SECRET}-PERSETUJUAN",
    "sp2d_reference": "SP2D-RAHASIA-0001/LS/2024",
    "return_reference": "STS-RAHASIA-0002",
}


@dataclass(frozen=True)
class PublicWorld:
    allocation: Allocation
    villages: list[Village]  # regency A's, by code
    grants: dict[str, Grant]  # state -> grant


def _report(village, **fields) -> services.ReportInput:
    values = {
        "pillar1": PillarStatus.LIVE,
        "pillar2": PillarStatus.IN_PROGRESS,
        "pillar3": PillarStatus.NOT_STARTED,
        "signal": Signal.G4,
        "signal_sufficient": True,
        "note": SECRETS["report_note"],
        "evidence_url": SECRETS["evidence_url"],
    }
    return services.ReportInput(village=village, **{**values, **fields})


@pytest.fixture
def public_world(registry, ro_allocation, province_admin) -> PublicWorld:  # noqa: F811 (the fixture above)
    staff = UserFactory(username=SECRETS["staff_username"], role=Role.PROVINCE_STAFF, email="staf@contoh.go.id")
    officer = UserFactory(
        username=SECRETS["officer_username"],
        role=Role.REGENCY_OFFICER,
        regency=registry.regency_a,
        first_name=SECRETS["officer_name"],
        email=SECRETS["officer_email"],
    )
    villages = list(Village.objects.filter(regency=registry.regency_a).order_by("code"))
    transfer_date = grant_services.transfer_window(fiscal_year=ro_allocation.fiscal_year)[1]
    grants = {}

    def grant(state: str, village: Village) -> Grant:
        made = grant_services.grant_plan(allocation=ro_allocation, village=village, actor=staff)
        if state == "planned":
            return made
        if state == "cancelled":
            return grant_services.grant_cancel(grant=made, actor=staff, note=SECRETS["grant_note"])
        made = grant_services.grant_approve(grant=made, actor=staff, note=SECRETS["grant_note"])
        if state == "approved":
            return made
        reference = SECRETS["sp2d_reference"] if state == "disbursed" else f"SP2D-PUBLIK-{village.code}"
        made = grant_services.grant_disburse(grant=made, actor=staff, reference=reference, transfer_date=transfer_date)
        if state == "disbursed":
            return made
        if state == "returned":
            return grant_services.grant_return(
                grant=made, actor=staff, amount=1_500_000, reference=SECRETS["return_reference"]
            )
        made = grant_services.grant_account(
            grant=made,
            actor=staff,
            spent_amount=made.amount,
            note=SECRETS["lpj_note"],
            document_url=SECRETS["lpj_document"],
        )
        if state == "accounted":
            return made
        return grant_services.grant_close(grant=made, actor=staff, note=SECRETS["grant_note"])

    states = ("planned", "approved", "disbursed", "accounted", "closed", "returned")
    for state, village in zip(states, villages, strict=True):
        grants[state] = grant(state, village)
    grants["cancelled"] = grant("cancelled", Village.objects.filter(regency=registry.regency_b).first())

    # Reports: verified (one blocked by no signal, with a note), rejected with a reason, one awaiting.
    live, blocked, rejected, awaiting = villages[0], villages[1], villages[2], villages[3]
    services.report_verify(report=services.report_submit(actor=officer, item=_report(live)), actor=staff)
    blocked_report = _report(
        blocked,
        pillar1=PillarStatus.IN_PROGRESS,
        signal=Signal.NONE,
        signal_sufficient=False,
        blocker=Blocker.NO_SIGNAL,
        blocker_note=SECRETS["blocker_note"],
    )
    services.report_verify(report=services.report_submit(actor=officer, item=blocked_report), actor=staff)
    services.report_reject(
        report=services.report_submit(actor=officer, item=_report(rejected)),
        actor=staff,
        reason=SECRETS["rejection_reason"],
    )
    services.report_submit(actor=officer, item=_report(awaiting))
    services.adoption_recompute(on_date=timezone.localdate() - datetime.timedelta(days=30))
    services.adoption_recompute()
    cache.clear()
    assert User.objects.filter(email=SECRETS["officer_email"]).exists()
    return PublicWorld(allocation=ro_allocation, villages=villages, grants=grants)
