import threading

import pytest
from django.db import connection

from rollout.models import AdoptionSnapshot, ProgrammeTarget
from rollout.services import adoption_recompute
from tests.factories import UserFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_recomputes_leave_one_consistent_row_per_unit(registry):
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait(timeout=10)
            adoption_recompute()
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    rows = AdoptionSnapshot.objects.values_list("level", "code")
    assert len(rows) == len(set(rows)) == 1 + 2 + 3  # province, its 2 regencies, its 3 districts
    province = AdoptionSnapshot.objects.get(level="province")
    assert province.units == sum(AdoptionSnapshot.objects.filter(level="regency").values_list("units", flat=True))


@pytest.mark.django_db
def test_adoption_rows_carry_the_years_target(api_client, province_staff, registry):
    ProgrammeTarget.objects.create(year=2021, adopted_pct=80)
    adoption_recompute()
    api_client.force_authenticate(province_staff)

    today_rows = api_client.get("/api/v1/adoption/", {"level": "province"}).json()
    ProgrammeTarget.objects.create(year=AdoptionSnapshot.objects.first().date.year, adopted_pct=90)
    configured = api_client.get("/api/v1/adoption/history/", {"code": "18"}).json()

    assert today_rows[0]["target_pct"] == 100
    assert configured[0]["target_pct"] == 90


@pytest.mark.django_db
def test_the_admin_edits_targets_but_not_reports(client, registry):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    assert client.get("/admin/rollout/programmetarget/add/").status_code == 200
    assert client.get("/admin/rollout/progressreport/add/").status_code == 403
    assert client.get("/admin/rollout/adoptionsnapshot/").status_code == 200
