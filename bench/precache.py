"""`make bench`: what the service worker keeps on an officer's phone for the largest regency, in bytes.

An officer's device keeps, after one visit with a connection (portal/pwa.py): the static files every page
loads (precache), the worker's own scripts, and the officer's pages (home with every village of the regency,
the village-less report form, the regency's villages with their status as JSON, the queue, the own reports).
The regency with the most active villages is the largest: its officer's pages are fetched through the whole
stack (Django's test client) and measured as the browser stores them (uncompressed). Photos are not counted:
they are the officer's own, kept only until sent. Floor: 1 MB (issue 13).
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.db.models import Count, Q
from django.test import Client

from accounts.models import Role, User
from portal.pwa import PRECACHE_STATIC, WORKER_SCRIPTS, warm_urls
from villages.models import Regency

HOST = {"SERVER_NAME": "localhost"}
FLOOR_BYTES = 1_000_000


def _static_bytes(paths) -> int:
    return sum(Path(finders.find(path)).stat().st_size for path in dict.fromkeys(paths))


def precache_size() -> dict:
    """Bytes the worker keeps for an officer of the regency with the most active villages."""
    regency = (
        Regency.objects.annotate(units=Count("villages", filter=Q(villages__is_active=True)))
        .order_by("-units", "code")
        .first()
    )
    officer, _created = User.objects.get_or_create(
        username=f"bench.petugas.{regency.code}", defaults={"role": Role.REGENCY_OFFICER, "regency": regency}
    )
    client = Client()
    client.force_login(officer)
    pages = {}
    for url in warm_urls():
        response = client.get(url, **HOST)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} to the officer")
        pages[url] = len(response.content)
    static = _static_bytes(PRECACHE_STATIC)
    worker = _static_bytes(WORKER_SCRIPTS) + len(client.get("/sw.js", **HOST).content)
    return {
        "regency": regency.code,
        "villages": regency.units,
        "static_bytes": static,
        "worker_bytes": worker,
        "pages_bytes": pages,
        "total_bytes": static + worker + sum(pages.values()),
    }
