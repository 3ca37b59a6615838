"""Thin Celery tasks: they call rollout.services and retry only on database outages.

No task stores a result (`ignore_result`): nothing reads them, and a task sent with a result
makes the sender subscribe to the result store first, which with Redis down holds the
sending web request for Celery's 20 reconnection attempts.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from rollout import services


@shared_task(
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def recompute_adoption() -> int:
    """Recompute today's adoption snapshots (after verifications, and nightly)."""
    return services.adoption_recompute_run()


@shared_task(ignore_result=True)
def recompute_adoption_catch_up() -> bool:
    """Every few minutes (beat): queue the recompute a broker outage or a lost message left owed."""
    # No retry: a database outage here is caught up by the next tick.
    return services.adoption_recompute_catch_up()


@shared_task(
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def recompute_adoption_nightly() -> int | None:
    """Nightly (beat): today's snapshots even without a verification; once per day, whatever beats send it."""
    return services.adoption_recompute_nightly()
