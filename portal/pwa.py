"""The portal as an installable web app: its manifest and its service worker (README "Field capture
(offline)"). Both are public: they hold no one's data, and the browser fetches them on its own.

The service worker is a view (not a static file) so that it is served from the root and may control every
page (`Service-Worker-Allowed: /`), and so that it names the static files it keeps by their current URLs
(hashed in production): a new deployment changes its text, which makes browsers install the new worker.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

# What every page of the officer's workspace loads (base.html), kept by the worker when it installs.
PRECACHE_STATIC = (
    "vendor/bootstrap-5.3.9/bootstrap.min.css",
    "vendor/bootstrap-5.3.9/bootstrap.bundle.min.js",
    "vendor/htmx-2.0.11/htmx.min.js",
    "vendor/idb-8.0.4/umd.js",
    "css/portal.css",
    "js/portal.js",
    "js/queue.js",
    "js/field.js",
    "favicon.svg",
    "favicon.ico",
    "icons/icon-192.png",
)
# The service worker's own libraries, loaded with importScripts in this order (dependencies first).
WORKER_SCRIPTS = (
    "vendor/workbox-7.4.1/workbox-core.prod.js",
    "vendor/workbox-7.4.1/workbox-routing.prod.js",
    "vendor/workbox-7.4.1/workbox-strategies.prod.js",
    "vendor/workbox-7.4.1/workbox-precaching.prod.js",
    "vendor/idb-8.0.4/umd.js",
    "js/queue.js",
)
# The officer's pages the worker keeps after a login (each answers the same URL for every village of the
# regency), by URL name: the home page, the report form of any village, the regency's villages with their
# status, the reports waiting on the device, the officer's own reports.
WARM_PAGES = (
    ("home", ()),
    ("rollout:offline-form", ()),
    ("rollout:offline-villages", ()),
    ("rollout:queue", ()),
    ("dashboard:list", ("my-reports",)),
)


@cache
def _revision(path: str) -> str | None:
    """None when the URL names the content (hashed by the manifest storage), else a hash of the file."""
    url = static(path)
    if url != static("") + path:
        return None
    found = finders.find(path)
    return hashlib.sha256(Path(found).read_bytes()).hexdigest()[:16] if found else None


def precache_entries() -> list[dict]:
    return [{"url": static(path), "revision": _revision(path)} for path in PRECACHE_STATIC]


def warm_urls() -> list[str]:
    return [reverse(name, args=args) for name, args in WARM_PAGES]


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    config = {
        "precache": precache_entries(),
        "warm": warm_urls(),
        "form": reverse("rollout:offline-form"),
    }
    text = render_to_string(
        "pwa/sw.js",
        {"scripts": json.dumps([static(path) for path in WORKER_SCRIPTS]), "config": json.dumps(config)},
    )
    response = HttpResponse(text, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker on every visit: never from a cache, never kept on a shared computer.
    patch_cache_control(response, no_cache=True, no_store=True, private=True)
    return response


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    icons = [
        {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {"src": static("icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ]
    body = {
        "name": _("Smart Village Lampung"),
        "short_name": "Smart Village",
        "description": _("Progress of Lampung's smart villages, reported from the field, also with no signal."),
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f8f9fa",
        "theme_color": "#198754",
        "icons": icons,
    }
    return JsonResponse(body, content_type="application/manifest+json")
