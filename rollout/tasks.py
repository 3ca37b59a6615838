"""Thin Celery tasks: they call rollout.services and retry only on database outages."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from rollout import services
from rollout.models import RecomputeRequest


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def recompute_adoption() -> int:
    """Recompute today's adoption snapshots (after verifications, and nightly)."""
    # Cleared before computing: a verification committed during this run asks for another one.
    RecomputeRequest.objects.filter(pk=1).update(pending=False)
    return services.adoption_recompute()
