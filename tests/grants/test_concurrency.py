"""Races against PostgreSQL with real threads: the row locks and constraints, not luck, decide who wins.

Each thread has its own connection; the data is committed first (transactional tests) so that
every thread sees it.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from grants import services
from grants.models import Allocation, Disbursement, Grant, GrantAction, GrantEvent, GrantStatus
from smartvillage.errors import ApplicationError, TransitionRefused
from tests.factories import VillageFactory
from tests.grants.conftest import UNIT
from villages.models import Village

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def run_together(calls: list[Callable[[], object]]) -> tuple[list, list[Exception]]:
    """Start every call at the same moment, each in its own thread; return what they returned and raised."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def worker(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            result = call()
            with lock:
                results.append(result)
        except Exception as exc:  # collected and asserted on by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def committed_matches_grants(allocation: Allocation) -> bool:
    allocation.refresh_from_db()
    live = Grant.objects.filter(allocation=allocation).exclude(status=GrantStatus.CANCELLED)
    return allocation.committed_amount == sum(live.values_list("amount", flat=True))


def test_it_pays_a_grant_once_when_many_disburse_it_at_once(make_grant, staff):
    grant = make_grant("approved")
    today = timezone.localdate()

    results, errors = run_together(
        [
            lambda i=i: services.grant_disburse(
                grant=grant, actor=staff, reference=f"SP2D-{i:04d}/LS/2026", transfer_date=today
            )
            for i in range(THREADS)
        ]
    )

    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, TransitionRefused) for error in errors), errors
    disbursement = Disbursement.objects.get()
    grant.refresh_from_db()
    assert (grant.status, grant.disbursement_id) == (GrantStatus.DISBURSED, disbursement.pk)
    assert disbursement.reference == results[0].disbursement.reference
    assert GrantEvent.objects.filter(grant=grant, action=GrantAction.DISBURSE).count() == 1


def test_it_pays_a_grant_once_when_many_disburse_it_with_the_same_reference(make_grant, staff):
    grant = make_grant("approved")
    today = timezone.localdate()

    results, errors = run_together(
        [
            lambda: services.grant_disburse(
                grant=grant, actor=staff, reference="SP2D-0001/LS/2026", transfer_date=today
            )
            for _ in range(THREADS)
        ]
    )

    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, ApplicationError) for error in errors), errors
    assert Disbursement.objects.get().reference == "SP2D-0001/LS/2026"
    assert GrantEvent.objects.filter(grant=grant, action=GrantAction.DISBURSE).count() == 1


def test_a_deposit_sent_many_times_at_once_is_one_return(make_grant, staff):
    grant = make_grant("disbursed")

    results, errors = run_together(
        [
            lambda: services.grant_return(grant=grant, actor=staff, amount=1_000_000, reference="STS-0001/2026")
            for _ in range(THREADS)
        ]
    )

    assert len(results) == 1
    assert all(isinstance(error, ApplicationError) and "reference" in error.fields for error in errors), errors
    grant.refresh_from_db()
    assert grant.returned_amount == 1_000_000
    assert GrantEvent.objects.filter(grant=grant, action=GrantAction.RETURN).count() == 1


def test_it_never_commits_more_than_the_total_when_many_plan_at_once(allocation, registry, province_admin, staff):
    room = THREADS // 2
    services.allocation_plan(allocation=allocation, actor=staff, regency=registry.regency_b)
    VillageFactory.create_batch(THREADS, district=registry.district_a2)
    allocation.refresh_from_db()
    services.allocation_update(
        allocation=allocation, actor=province_admin, total_amount=allocation.committed_amount + room * UNIT
    )
    free = list(Village.objects.exclude(grants__allocation=allocation).order_by("code")[:THREADS])
    planned_before = Grant.objects.filter(allocation=allocation).count()

    results, errors = run_together(
        [
            lambda village=village: services.grant_plan(allocation=allocation, village=village, actor=staff)
            for village in free
        ]
    )

    assert len(results) == room
    assert len(errors) == THREADS - room
    assert all(isinstance(error, ApplicationError) and "amount" in error.fields for error in errors), errors
    assert Grant.objects.filter(allocation=allocation).count() == planned_before + room
    allocation.refresh_from_db()
    assert allocation.committed_amount <= allocation.total_amount
    assert committed_matches_grants(allocation)


def test_it_pays_a_regency_batch_once_when_many_disburse_it_at_once(allocation, registry, staff):
    services.allocation_plan(allocation=allocation, actor=staff)
    services.grants_approve_batch(allocation=allocation, regency=registry.regency_a, actor=staff)
    services.grants_approve_batch(allocation=allocation, regency=registry.regency_b, actor=staff)
    in_a = list(Grant.objects.filter(allocation=allocation, village__regency=registry.regency_a))
    today = timezone.localdate()
    batches = 4

    results, errors = run_together(
        [
            lambda i=i: services.grants_disburse_batch(
                allocation=allocation,
                regency=registry.regency_a,
                actor=staff,
                reference=f"SP2D-{i:04d}/LS/2026",
                transfer_date=today,
            )
            for i in range(batches)
        ]
    )

    assert len(results) == 1
    assert len(errors) == batches - 1
    assert all(isinstance(error, TransitionRefused) for error in errors), errors
    disbursement = Disbursement.objects.get()
    assert disbursement.amount == sum(grant.amount for grant in in_a)
    assert set(Grant.objects.filter(disbursement=disbursement).values_list("pk", flat=True)) == {g.pk for g in in_a}
    for grant in in_a:
        assert GrantEvent.objects.filter(grant=grant, action=GrantAction.DISBURSE).count() == 1
    assert not Grant.objects.filter(village__regency=registry.regency_b, disbursement__isnull=False).exists()


# One SP2D number, written as many ways as there are threads: case, spaces, tabs, no-break and
# zero-width spaces, a byte-order mark, full-width forms.
SAME_SP2D = [
    "SP2D-0042/LS/2026",
    "sp2d-0042/ls/2026",
    " SP2D-0042/LS/2026\t",
    "\u00a0SP2D-0042/LS/2026\u00a0",
    "SP2D-\u200b0042/LS/2026",
    "\ufeffSp2D-0042/Ls/2026",
    "SP2D-0042/LS/2026\u200d",
    "".join(chr(ord(character) + 0xFEE0) for character in "SP2D-0042/LS/2026"),
]


def test_it_pays_once_when_many_use_one_reference_written_different_ways_at_once(make_grant, staff):
    grants = [make_grant("approved") for _ in SAME_SP2D]
    today = timezone.localdate()

    results, errors = run_together(
        [
            lambda grant=grant, reference=reference: services.grant_disburse(
                grant=grant, actor=staff, reference=reference, transfer_date=today
            )
            for grant, reference in zip(grants, SAME_SP2D, strict=True)
        ]
    )

    assert len(results) == 1
    assert len(errors) == len(SAME_SP2D) - 1
    assert all(isinstance(error, ApplicationError) and "reference" in error.fields for error in errors), errors
    disbursement = Disbursement.objects.get()
    assert disbursement.reference_key == "sp2d-0042/ls/2026"
    assert Grant.objects.filter(disbursement__isnull=False).get().pk == results[0].pk
    assert GrantEvent.objects.filter(action=GrantAction.DISBURSE).count() == 1
