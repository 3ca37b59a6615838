"""`/healthz`, for load balancers and monitoring: whether this portal process can answer, and how its read
replica is doing. Anonymous, read-only, never cached; it names no server, user or setting."""

from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from smartvillage.replica import PRIMARY, replica_health


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the primary database answers, whatever the replica's state (a replica down or lagging is
    left aside and the primary answers instead: the portal is up); 503 when the primary does not answer."""
    body = {"status": "ok", "primary": {"state": "up"}}
    status = 200
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT 1")
        body["replica"] = replica_health().as_dict()
    except DatabaseError:
        body = {"status": "unavailable", "primary": {"state": "down"}}
        status = 503
    response = JsonResponse(body, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response
