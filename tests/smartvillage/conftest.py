"""The access-matrix world: one realistic province state with rows of two regencies in every table.

Built once per module (not per test): the module's tests run inside one outer transaction that the
world opens and rolls back at the end, and each test's own transaction is a savepoint in it, so a
test that writes (an approval, a report) leaves the next test the same world.

Regency A is 18.01 and regency B is 18.71, as in the `registry` fixture of tests/conftest.py; every
name of regency B contains "RAHASIA-B", so a leak of B's rows into an officer of A's view is a
plain substring in the response.
"""

import datetime
import io
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token

from accounts.models import Role
from grants import services as grant_services
from grants.models import Grant
from rollout import services as rollout_services
from rollout.models import Blocker, PillarStatus, ReportStatus, Signal
from tests.factories import DistrictFactory, RegencyFactory, UserFactory, VillageFactory
from treasury import services as treasury_services
from treasury.models import Outcome, OutcomeKind
from treasury.parsers import statement_parse
from villages.models import Province, Regency, RegencyKind, Village, VillageKind

SECRET_B = "RAHASIA-B"

# The role users, with the usernames of the role fixtures of tests/conftest.py.
USERNAMES = {
    "auditor": ("auditor", Role.AUDITOR, None),
    "officer_a": ("petugas.a", Role.REGENCY_OFFICER, "18.01"),
    "officer_b": ("petugas.b", Role.REGENCY_OFFICER, "18.71"),
    "province_staff": ("staf.provinsi", Role.PROVINCE_STAFF, None),
    "province_admin": ("admin.provinsi", Role.PROVINCE_ADMIN, None),
}

# The grant state of each village of a regency, in village-code order.
GRANT_STATES = {
    "A": ("planned", "approved", "disbursed", "accounted", "closed", "returned"),
    "B": ("planned", "approved", "disbursed", "accounted", "closed", "cancelled"),
}


@dataclass(frozen=True)
class World:
    """Keys of the world's rows (never model instances: a test must not see another test's in-memory changes)."""

    users: dict[str, int]  # role -> user pk
    sessions: dict[str, str]  # role -> the key of a logged-in session (a force_login per test costs more)
    allocation: int  # the active 2026 allocation
    draft_allocation: int  # a 2025 allocation still in draft
    regencies: dict[str, str]  # "A"/"B" -> regency code
    districts: dict[str, str]  # "A"/"B" -> the code of a district with grants and reports
    villages: dict[str, str]  # "A"/"B" -> the code of a village (planned grant, awaiting report)
    grants: dict[str, dict[str, int]]  # "A"/"B" -> grant state -> grant pk
    reports: dict[str, dict[str, int]]  # "A"/"B" -> report status -> report pk
    outcomes: dict[str, dict[str, int]]  # "A"/"B" -> reconciliation outcome kind -> outcome pk (open items)
    upload_sha256: str  # a statement file previewed by province staff and the administrator, not yet confirmed
    b_codes: tuple[str, ...]  # every code of regency B, the regency's first
    b_names: tuple[str, ...]  # every name of regency B


def _report(village: Village, *, pillar1: str, blocker: str = "") -> rollout_services.ReportInput:
    return rollout_services.ReportInput(
        village=village,
        pillar1=pillar1,
        pillar2=PillarStatus.IN_PROGRESS,
        pillar3=PillarStatus.NOT_STARTED,
        signal=Signal.NONE if blocker == Blocker.NO_SIGNAL else Signal.G4,
        signal_sufficient=blocker != Blocker.NO_SIGNAL,
        blocker=blocker,
    )


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def _grant(allocation, village: Village, state: str, actor, serial: int):
    """A grant brought to `state` by the grant services, step by step (as tests/grants/conftest.py does)."""
    grant = grant_services.grant_plan(allocation=allocation, village=village, actor=actor)
    if state == "cancelled":
        return grant_services.grant_cancel(grant=grant, actor=actor)
    if state == "planned":
        return grant
    grant = grant_services.grant_approve(grant=grant, actor=actor)
    if state == "approved":
        return grant
    grant = grant_services.grant_disburse(
        grant=grant,
        actor=actor,
        reference=f"SP2D-MATRIX-{serial:03d}/LS/2026",
        # The latest date it accepts.
        transfer_date=grant_services.transfer_window(fiscal_year=allocation.fiscal_year)[1],
    )
    if state == "disbursed":
        return grant
    if state == "returned":
        return grant_services.grant_return(
            grant=grant, actor=actor, amount=grant.amount, reference=f"STS-MATRIX-{serial:03d}"
        )
    grant = grant_services.grant_account(grant=grant, actor=actor, spent_amount=grant.amount)
    if state == "accounted":
        return grant
    return grant_services.grant_close(grant=grant, actor=actor)


def _reconcile(allocation, grants: dict[str, dict[str, int]], staff) -> dict[str, dict[str, int]]:
    """A bank statement imported for the allocation: per regency, the disbursed grant's SP2D paid and its
    transfer returned (retur: `returned`, open), the accounted grant's paid with another amount
    (`amount_mismatch`, open)."""
    rows = ["tanggal,keterangan,referensi_bank,debet,kredit"]
    for side in ("A", "B"):
        paid = Grant.objects.select_related("disbursement").get(pk=grants[side]["disbursed"]).disbursement
        other = Grant.objects.select_related("disbursement").get(pk=grants[side]["accounted"]).disbursement
        day = paid.transfer_date.isoformat()
        rows += [
            f"{day},TRF {paid.reference},BL-{side}1,{paid.amount},",
            f"{day},RETUR {paid.reference},RT-{side}1,,{paid.amount}",
            f"{day},TRF {other.reference},BL-{side}2,{other.amount - 1000},",
        ]
    statement = statement_parse(data="\n".join(rows).encode(), file_name="rekening-koran-uji.csv")
    treasury_services.statement_import(allocation=allocation, parsed=statement, actor=staff)
    return {
        side: {
            kind: Outcome.objects.get(kind=kind, regency__code=code).pk
            for kind in (OutcomeKind.RETURNED, OutcomeKind.AMOUNT_MISMATCH)
        }
        for side, code in (("A", "18.01"), ("B", "18.71"))
    }


def _build_registry() -> dict[str, list[Village]]:
    """Regency A as in the `registry` fixture; regency B with two districts of kelurahan, all named RAHASIA-B."""
    regency_a = RegencyFactory(code="18.01", name="Kabupaten Lampung Selatan")
    natar = DistrictFactory(regency=regency_a, code="18.01.01", name="Natar")
    kalianda = DistrictFactory(regency=regency_a, code="18.01.02", name="Kalianda")
    a = [
        VillageFactory(district=natar, code="18.01.01.1001", name="Kelurahan Natar", kind=VillageKind.KELURAHAN),
        VillageFactory(district=natar, code="18.01.01.2001", name="Desa Hajimena"),
        VillageFactory(district=natar, code="18.01.01.2002", name="Desa Merak Batin"),
        VillageFactory(district=natar, code="18.01.01.2003", name="Desa Branti Raya"),
        VillageFactory(district=kalianda, code="18.01.02.2001", name="Desa Way Urang"),
        VillageFactory(district=kalianda, code="18.01.02.2002", name="Desa Canti"),
    ]
    regency_b = RegencyFactory(code="18.71", name=f"Kota {SECRET_B} Bandar Lampung", kind=RegencyKind.KOTA)
    b = []
    for number, district_name in ((1, "Teluk Betung Barat"), (2, "Teluk Betung Timur")):
        district = DistrictFactory(regency=regency_b, code=f"18.71.0{number}", name=f"{SECRET_B} {district_name}")
        b += [
            VillageFactory(
                district=district,
                code=f"{district.code}.100{serial}",
                name=f"Kelurahan {SECRET_B} {number}-{serial}",
                kind=VillageKind.KELURAHAN,
            )
            for serial in (1, 2, 3)
        ]
    return {"A": a, "B": b}


def build_world() -> World:
    users = {}
    for role, (username, user_role, regency) in USERNAMES.items():
        if regency is not None:
            continue
        users[role] = UserFactory(username=username, role=user_role)
    villages = _build_registry()
    for role, (username, user_role, regency) in USERNAMES.items():
        if regency is not None:
            users[role] = UserFactory(username=username, role=user_role, regency=Regency.objects.get(code=regency))
    admin, staff = users["province_admin"], users["province_staff"]
    province = Province.objects.get(code="18")

    allocation = grant_services.allocation_create(
        actor=admin, province=province, fiscal_year=2026, legal_basis="Keputusan Gubernur Lampung G/001/2026 (uji)"
    )
    allocation = grant_services.allocation_activate(allocation=allocation, actor=admin)
    draft = grant_services.allocation_create(
        actor=admin, province=province, fiscal_year=2025, legal_basis="Keputusan Gubernur Lampung G/001/2025 (uji)"
    )
    grants = {}
    serial = 0
    for side, states in GRANT_STATES.items():
        grants[side] = {}
        for village, state in zip(villages[side], states, strict=True):
            serial += 1
            grants[side][state] = _grant(allocation, village, state, staff, serial).pk

    outcomes = _reconcile(allocation, grants, staff)
    upload = b"tanggal,keterangan,referensi_bank,debet,kredit\n2026-01-06,BIAYA MATERAI,MT1,10000,\n"
    for user in (admin, staff):
        pending, _preview = treasury_services.statement_upload_preview(
            allocation=allocation, actor=user, data=upload, file_name="rk-pratinjau.csv"
        )

    # Reports: per regency, the closed grant's village adopted, the disbursed one blocked by no signal
    # (so both are in "paid but not live"), one rejected and one report awaiting verification.
    reports = {}
    for side, officer in (("A", users["officer_a"]), ("B", users["officer_b"])):
        by_state = dict(zip(GRANT_STATES[side], villages[side], strict=True))

        def submit(village, pillar1, blocker="", officer=officer):
            return rollout_services.report_submit(
                actor=officer, item=_report(village, pillar1=pillar1, blocker=blocker)
            )

        verified = submit(by_state["closed"], PillarStatus.LIVE)
        rollout_services.report_verify(report=verified, actor=staff)
        blocked = submit(by_state["disbursed"], PillarStatus.IN_PROGRESS, Blocker.NO_SIGNAL)
        rollout_services.report_verify(report=blocked, actor=staff)
        rejected = submit(by_state["approved"], PillarStatus.LIVE)
        rollout_services.report_reject(report=rejected, actor=staff, reason="Bukti tidak lengkap")
        # With an evidence photo (field capture), which only those who may read the village are served.
        awaiting = rollout_services.report_receive(
            actor=officer,
            item=_report(by_state["planned"], pillar1=PillarStatus.LIVE),
            photos=[SimpleUploadedFile("bukti.jpg", _photo(), content_type="image/jpeg")],
        ).report
        reports[side] = {
            ReportStatus.VERIFIED: verified.pk,
            ReportStatus.REJECTED: rejected.pk,
            ReportStatus.AWAITING: awaiting.pk,
        }

    # Two snapshot dates, so the history and the forecast have a trend.
    rollout_services.adoption_recompute(on_date=timezone.localdate() - datetime.timedelta(days=30))
    rollout_services.adoption_recompute()

    b_villages = villages["B"]
    b_districts = sorted({village.district for village in b_villages}, key=lambda district: district.code)
    sessions = {}
    for role, user in users.items():
        Token.objects.create(user=user)  # for the revocation routes to revoke
        client = Client()
        client.force_login(user)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return World(
        users={role: user.pk for role, user in users.items()},
        sessions=sessions,
        allocation=allocation.pk,
        draft_allocation=draft.pk,
        regencies={"A": "18.01", "B": "18.71"},
        districts={"A": "18.01.01", "B": "18.71.01"},
        villages={side: villages[side][0].code for side in ("A", "B")},
        grants=grants,
        reports=reports,
        outcomes=outcomes,
        upload_sha256=pending.sha256,
        b_codes=("18.71", *(d.code for d in b_districts), *(v.code for v in b_villages)),
        b_names=(b_villages[0].regency.name, *(d.name for d in b_districts), *(v.name for v in b_villages)),
    )


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker):
    """The world of this module, rolled back when the module's tests are done."""
    with django_db_blocker.unblock(), transaction.atomic():
        # PBKDF2 is slow by design, and these users log in with force_login.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            built = build_world()
        yield built
        transaction.set_rollback(True)
