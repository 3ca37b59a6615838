"""Per-address rate limit of the public pages and downloads: a counter per client address and minute in the
cache (Redis in production, CACHE_URL; per process without it). A cache outage lets requests through: the
limit protects the database from one address's flood, and the pages are cached anyway."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from accounts.lockout import client_ip

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def refusal(request: HttpRequest) -> HttpResponse | None:
    """A 429 when the client's address has made more than PUBLIC_RATE_LIMIT_PER_MINUTE requests this minute."""
    limit = settings.PUBLIC_RATE_LIMIT_PER_MINUTE
    if limit <= 0:
        return None
    now = time.time()
    key = f"public-rate:{client_ip(request)}:{int(now // WINDOW_SECONDS)}"
    try:
        count = 1 if cache.add(key, 1, timeout=WINDOW_SECONDS + 10) else cache.incr(key)
    except ValueError:  # the counter expired between add and incr: a new minute
        count = 1
    except Exception:  # a cache outage (Redis errors vary): let the request through
        logger.warning("Cache unreachable: the public rate limit is not counted.", exc_info=True)
        return None
    if count <= limit:
        return None
    response = HttpResponse(
        _("Too many requests from your address. Please wait a minute, or use the downloads for bulk data."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(WINDOW_SECONDS - int(now % WINDOW_SECONDS))
    patch_cache_control(response, no_store=True)
    return response
