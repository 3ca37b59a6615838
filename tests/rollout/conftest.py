"""Fixtures of the rollout tests, on the two-regency registry of tests/conftest.py.

Reports reach a village's status through the real services (an officer of the village's regency
submits, province staff verify), never by writing a VillageStatus directly, unless a test needs a
state the services cannot date (a pillar live since a past day). Names start with `ro_` so they
never collide with fixtures of other test modules in this folder.
"""

import contextlib
import datetime
import itertools
from collections.abc import Callable, Iterator

import pytest
from django.utils import timezone

from accounts.models import Role
from grants import services as grant_services
from grants.models import Allocation, Grant
from rollout import services
from rollout.models import PillarStatus, ProgressReport, Signal
from smartvillage import celery_app
from tests.factories import UserFactory
from villages.models import Province, Village

_references = itertools.count(1)


class Clock:
    """A settable `timezone.now`: dates written by the services are then known in advance."""

    def __init__(self, moment: datetime.datetime):
        self.moment = moment

    def __call__(self) -> datetime.datetime:
        return self.moment

    def set(self, moment: datetime.datetime) -> None:
        self.moment = moment

    def today(self) -> datetime.date:
        return timezone.localdate(self.moment)


@pytest.fixture
def ro_clock(monkeypatch) -> Clock:
    """Freeze `timezone.now` at noon in Lampung (05:00 UTC), so UTC and local dates agree.

    Not for tests that send or run Celery tasks: Celery keeps the first `timezone.now` it sees.
    """
    clock = Clock(datetime.datetime(2024, 5, 15, 5, 0, tzinfo=datetime.UTC))
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def ro_report_input() -> Callable[..., services.ReportInput]:
    """A valid report on `village`: pillar 1 live with sufficient 4G unless overridden."""

    def make(village: Village, **fields) -> services.ReportInput:
        values = {
            "pillar1": PillarStatus.LIVE,
            "pillar2": PillarStatus.IN_PROGRESS,
            "pillar3": PillarStatus.NOT_STARTED,
            "signal": Signal.G4,
            "signal_sufficient": True,
        }
        values.update(fields)
        return services.ReportInput(village=village, **values)

    return make


@pytest.fixture
def ro_officer_of(db) -> Callable[[Village], object]:
    """The regency officer of a village's regency (one per regency, created on first use)."""

    def officer(village: Village):
        return UserFactory(
            username=f"petugas.{village.regency.code}", role=Role.REGENCY_OFFICER, regency_id=village.regency_id
        )

    return officer


@pytest.fixture
def ro_submitted(ro_report_input, ro_officer_of) -> Callable[..., ProgressReport]:
    """A report on `village` submitted by its regency's officer, awaiting verification."""

    def submit(village: Village, **fields) -> ProgressReport:
        return services.report_submit(actor=ro_officer_of(village), item=ro_report_input(village, **fields))

    return submit


@pytest.fixture
def ro_verified(ro_submitted, province_staff) -> Callable[..., ProgressReport]:
    """A report submitted by the village's officer and verified by province staff."""

    def verify(village: Village, **fields) -> ProgressReport:
        return services.report_verify(report=ro_submitted(village, **fields), actor=province_staff)

    return verify


@pytest.fixture
def ro_queued() -> Iterator[None]:
    """Celery not eager: apply_async only puts the message on the broker (memory:// or Redis), no worker runs it."""
    # Set and restored by hand: monkeypatch cannot undo it on Celery's layered settings object.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager
    if not celery_app.conf.broker_url.startswith("memory://"):
        # Best effort: a leftover message only costs one extra recompute.
        with contextlib.suppress(Exception):
            celery_app.control.purge()


@pytest.fixture
def ro_allocation(registry, province_admin) -> Allocation:
    """An active grant allocation for province 18 of the registry."""
    allocation = grant_services.allocation_create(
        actor=province_admin,
        province=Province.objects.get(code="18"),
        fiscal_year=2024,
        legal_basis="Keputusan Gubernur Lampung tentang hibah desa cerdas TA 2024 (uji)",
    )
    return grant_services.allocation_activate(allocation=allocation, actor=province_admin)


@pytest.fixture
def ro_grant(ro_allocation, province_staff) -> Callable[[str, Village], Grant]:
    """A grant to `village` brought to `state` (planned, approved, disbursed, returned) by the grant services."""

    def make(state: str, village: Village) -> Grant:
        assert state in ("planned", "approved", "disbursed", "returned"), state
        actor = province_staff
        grant = grant_services.grant_plan(allocation=ro_allocation, village=village, actor=actor)
        if state == "planned":
            return grant
        grant = grant_services.grant_approve(grant=grant, actor=actor)
        if state == "approved":
            return grant
        grant = grant_services.grant_disburse(
            grant=grant,
            actor=actor,
            reference=f"SP2D-RO-{next(_references):05d}",
            # The latest date it accepts.
            transfer_date=grant_services.transfer_window(fiscal_year=ro_allocation.fiscal_year)[1],
        )
        if state == "disbursed":
            return grant
        return grant_services.grant_return(
            grant=grant, actor=actor, amount=grant.amount, reference=f"STS-RO-{next(_references):05d}"
        )

    return make
