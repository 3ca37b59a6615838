"""The public transparency pages and open data (`/publik/`): no login, Bahasa Indonesia (English: `?lang=en`).

Every answer is the same for whoever asks: pages are rendered without the request (no user, no session, no
CSRF token), so `Cache-Control: public` is right for a signed-in visitor too and no shared cache can hand
one visitor another's page. GET and HEAD only; a per-address rate limit (public.throttle); ETag and
Last-Modified from the edition (public.selectors: the province's latest snapshot and grant movement), a 304
to a conditional request; the body is kept in the cache per edition, so a page whose edition is cached runs
one SQL query (the edition's).
"""

import json
import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import urljoin

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from accounts.access import PUBLIC
from grants import selectors as grant_selectors
from public import downloads, selectors, throttle
from rollout import overview

logger = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
# Part of every cache key: a change of what a page holds (a deploy) must not serve the old bodies.
CACHE_VERSION = "public-1"
CACHE_SECONDS = 24 * 60 * 60
LANGUAGES = ("id", "en")


def public_view(view: Callable) -> Callable:
    """GET and HEAD only, rate limited, in the language the query string asks for (`lang=en`), never the
    visitor's cookie: the page must not vary with anything a shared cache does not key on."""

    @require_safe
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = throttle.refusal(request)
        if refused is not None:
            return refused
        language = "en" if request.GET.get("lang") == "en" else settings.LANGUAGE_CODE
        with translation.override(language):
            response = view(request, *args, language=language, **kwargs)
        # Set here, so the locale middleware adds no Vary: Accept-Language (smartvillage.middleware).
        response["Content-Language"] = language
        return response

    return wrapper


def _cached(key: str, build: Callable[[], str]) -> str:
    try:
        body = cache.get(key)
    except Exception:  # a cache outage (Redis errors vary): build the page, as without a cache
        logger.warning("Cache unreachable: public page built afresh.", exc_info=True)
        return build()
    if body is None:
        body = build()
        try:
            cache.set(key, body, timeout=CACHE_SECONDS)
        except Exception:
            logger.warning("Cache unreachable: public page not kept.", exc_info=True)
    return body


def _published(
    request: HttpRequest,
    *,
    edition: selectors.Edition,
    language: str,
    build: Callable[[], str],
    content_type: str = HTML,
    filename: str = "",
) -> HttpResponse:
    """The answer for one edition of a page: 304 when the client holds it, else the (cached) body."""
    etag = f'W/"{edition.tag}-{language}"'
    modified = edition.last_modified
    timestamp = int(modified.timestamp()) if modified is not None else None
    response = get_conditional_response(request, etag=etag, last_modified=timestamp)
    if response is None:
        key = f"{CACHE_VERSION}:{request.get_host()}:{request.path}:{language}:{edition.tag}"
        response = HttpResponse(_cached(key, build), content_type=content_type)
        if filename:
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["ETag"] = etag
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    patch_cache_control(response, public=True, max_age=settings.PUBLIC_MAX_AGE_SECONDS)
    return response


def _page(template: str, request: HttpRequest, language: str, edition: selectors.Edition, **context) -> str:
    # Without the request: no context processor runs, so nothing of the visitor reaches the page (the path alone
    # is read, for the language links; it is part of the cache key).
    return render_to_string(
        template,
        {
            "path": request.path,
            "language": language,
            "lang_query": "?lang=en" if language == "en" else "",
            "edition": edition,
            "demo_data": edition.demo_data,
            "data_files": downloads.TABLES,
            **context,
        },
    )


def _with_confirmed(table: list[dict], confirmed: selectors.BankConfirmed | None) -> list[dict]:
    by_regency = confirmed.by_regency if confirmed else {}
    return [{**entry, "confirmed": by_regency.get(entry["row"].code)} for entry in table]


@public_view
def province(request: HttpRequest, *, language: str) -> HttpResponse:
    unit = selectors.province_unit()
    if unit is None:
        raise Http404
    edition = selectors.Edition.of(unit)

    def build() -> str:
        figures = overview.province_overview(user=PUBLIC, province=unit)
        confirmed = selectors.bank_confirmed(allocation=figures.allocation)
        return _page(
            "public/province.html",
            request,
            language,
            edition,
            figures=figures,
            trend={unit.code: figures.trend[unit.code]},
            table=_with_confirmed(figures.table, confirmed),
            confirmed=confirmed.total if confirmed else None,
            confirmed_by_regency=confirmed.by_regency if confirmed else {},
        )

    return _published(request, edition=edition, language=language, build=build)


@public_view
def regency(request: HttpRequest, code: str, *, language: str) -> HttpResponse:
    unit = selectors.regency_unit(code=code)
    if unit is None:
        raise Http404
    edition = selectors.Edition.of(unit)

    def build() -> str:
        figures = overview.regency_overview(user=PUBLIC, regency=unit)
        confirmed = selectors.bank_confirmed(allocation=figures.allocation)
        regency_confirmed = confirmed.by_regency.get(unit.code) if confirmed else None
        return _page(
            "public/regency.html",
            request,
            language,
            edition,
            figures=figures,
            table=figures.table,
            confirmed=regency_confirmed,
        )

    return _published(request, edition=edition, language=language, build=build)


@public_view
def district(request: HttpRequest, code: str, *, language: str) -> HttpResponse:
    unit = selectors.district_unit(code=code)
    if unit is None:
        raise Http404
    edition = selectors.Edition.of(unit)

    def build() -> str:
        allocation = grant_selectors.joined_allocation(unit=unit)
        rows = selectors.villages(allocation=allocation, district=unit)
        return _page(
            "public/district.html", request, language, edition, district=unit, villages=rows, allocation=allocation
        )

    return _published(request, edition=edition, language=language, build=build)


@public_view
def village(request: HttpRequest, code: str, *, language: str) -> HttpResponse:
    unit = selectors.village_unit(code=code)
    if unit is None:
        raise Http404
    edition = selectors.Edition.of(unit)

    def build() -> str:
        allocation = grant_selectors.joined_allocation(unit=unit)
        (row,) = selectors.villages(allocation=allocation, village=unit)
        return _page("public/village.html", request, language, edition, village=row, allocation=allocation)

    return _published(request, edition=edition, language=language, build=build)


# --- open data ------------------------------------------------------------------------------------


def _data_unit():
    unit = selectors.province_unit()
    if unit is None:
        raise Http404
    return unit, selectors.Edition.of(unit)


def _absolute(request: HttpRequest) -> Callable[[str], str]:
    """Absolute URLs of the files beside the data package (DCAT wants them absolute)."""
    base = request.build_absolute_uri(reverse("public:datapackage")).rsplit("/", 1)[0] + "/"
    return lambda name: urljoin(base, name)


@public_view
def table_csv(request: HttpRequest, name: str, *, language: str) -> HttpResponse:
    table = downloads.TABLES_BY_NAME.get(name)
    if table is None:
        raise Http404
    unit, edition = _data_unit()
    return _published(
        request,
        edition=edition,
        language=language,
        build=lambda: table.csv(unit),
        content_type="text/csv; charset=utf-8",
        filename=f"{name}.csv",
    )


def _json(document: dict) -> str:
    # DjangoJSONEncoder writes lazily translated titles as text.
    return json.dumps(document, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder) + "\n"


@public_view
def datapackage(request: HttpRequest, *, language: str) -> HttpResponse:
    unit, edition = _data_unit()
    absolute = _absolute(request)
    return _published(
        request,
        edition=edition,
        language=language,
        build=lambda: _json(downloads.datapackage(province=unit, edition=edition, absolute=absolute)),
        content_type="application/json",
    )


@public_view
def catalogue(request: HttpRequest, *, language: str) -> HttpResponse:
    unit, edition = _data_unit()
    absolute = _absolute(request)
    return _published(
        request,
        edition=edition,
        language=language,
        build=lambda: _json(downloads.catalogue(province=unit, edition=edition, absolute=absolute)),
        content_type="application/ld+json",
    )
