from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import demo_users_ensure
from grants.demo import demo_grants_seed
from grants.selectors import allocation_summary
from rollout.demo import demo_rollout_seed
from rollout.models import AdoptionSnapshot
from smartvillage.templatetags.rupiah import rupiah

# Published on purpose: demo accounts exist only in the embedded (DEBUG) mode.
DEMO_PASSWORD = "demo-lampung"  # noqa: S105


class Command(BaseCommand):
    help = (
        "Demo data for the embedded mode: demo accounts (printed), the 2024 grant allocation and the "
        "end-of-2023 rollout state with its monthly snapshots."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG=0 (never on a real server)")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with a published password; it runs only with DEBUG on.")
        users = demo_users_ensure(password=DEMO_PASSWORD)
        admin, staff = User.objects.get(username="admin"), User.objects.get(username="staf")
        allocation = demo_grants_seed(admin=admin, staff=staff)
        if allocation is not None:
            summary = allocation_summary(allocation=allocation, user=admin)
            # The figures and names of the dashboard and the grant pages (grants.selectors.MoneySummary).
            self.stdout.write(
                f"Demo allocation {allocation}: total {rupiah(allocation.total_amount)}, "
                f"{summary.totals.units} grants, disbursed {rupiah(summary.disbursed)} ({summary.disbursed_pct} %), "
                f"returned {rupiah(summary.returned)}, net disbursed {rupiah(summary.net_disbursed)}, "
                f"remaining {rupiah(summary.remaining)}."
            )
        officers = {user.regency.code: user for user in users if user.regency_id}
        if demo_rollout_seed(staff=staff, officers=officers):
            end = AdoptionSnapshot.objects.filter(level="province").order_by("-date").first()
            self.stdout.write(
                f"Demo rollout on {end.date}: {end.adopted_desa} of {end.desa} desa adopted "
                f"({end.adopted_desa_pct} %), "
                f"{end.blocked_no_signal} blocked by no signal."
            )
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for user in users:
            scope = f" {user.regency.code}" if user.regency_id else ""
            self.stdout.write(f"  {user.username:<24} {user.get_role_display()}{scope}")
