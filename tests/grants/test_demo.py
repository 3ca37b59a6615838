import pytest
from django.core.management import call_command
from django.db.models import Sum

from grants.models import Allocation, Grant, GrantEvent, GrantStatus
from tests.factories import UserFactory
from villages.models import Village
from villages.services import regions_load

pytestmark = pytest.mark.django_db


def test_seed_demo_plans_every_lampung_unit_and_spreads_the_states(settings):
    settings.DEBUG = True
    regions_load()

    call_command("seed_demo")
    call_command("seed_demo")  # idempotent: a second run adds nothing

    allocation = Allocation.objects.get(fiscal_year=2024)
    assert allocation.total_amount == Village.objects.filter(is_active=True).count() * 6_000_000
    assert Grant.objects.filter(allocation=allocation).count() == Village.objects.filter(is_active=True).count()
    statuses = set(Grant.objects.values_list("status", flat=True))
    assert {GrantStatus.PLANNED, GrantStatus.APPROVED, GrantStatus.DISBURSED, GrantStatus.ACCOUNTED} <= statuses
    assert GrantStatus.CLOSED in statuses
    live = Grant.objects.exclude(status=GrantStatus.CANCELLED).aggregate(total=Sum("amount"))["total"]
    assert allocation.committed_amount == live
    assert GrantEvent.objects.filter(action="plan").count() == Grant.objects.count()


def test_the_admin_shows_grants_read_only(client, settings, registry):
    settings.DEBUG = True
    call_command("seed_demo")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    grant = Grant.objects.first()

    assert client.get("/admin/grants/grant/").status_code == 200
    page = client.get(f"/admin/grants/grant/{grant.pk}/change/")
    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()
    assert client.get("/admin/grants/grantevent/add/").status_code == 403
