"""Every URL the portal serves refuses an anonymous visitor, found by walking the URL resolver,
so a new page or endpoint cannot be forgotten. (The per-role matrix lives with each app's API tests.)"""

import itertools

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# Public on purpose: logging in, choosing a language, the API's own description, the admin's login,
# the site icon (a redirect to the static file, which every visitor may load); the transparency pages and
# open data (published figures, no person and no free text: tests/public), and the load balancers' health check.
PUBLIC = {
    "login",
    "logout",
    "set_language",
    "api-schema",
    "api-docs",
    "api-token",
    "api-root",
    "favicon",
    "healthz",
    "pwa-manifest",
    "service-worker",
    *(f"public:{name}" for name in ("home", "regency", "district", "village", "csv", "datapackage", "catalogue")),
}


def walk(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            prefix_params = set(pattern.pattern.regex.groupindex)
            for name, params in walk(pattern.url_patterns, inner):
                yield name, params | prefix_params
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name, set(pattern.pattern.regex.groupindex)


# Sample values tried for each URL parameter, in order, until one fits the route.
SAMPLES = ["1", "18.01", "18.01.01", "18.01.01.2001", "verify", "regencies", "json"]


def concrete(name: str, params: set[str]) -> list[str]:
    """Every visitable path of a named route with sample values (one per combination that reverses)."""
    paths = []
    for values in itertools.product(SAMPLES, repeat=len(params)):
        try:
            paths.append(reverse(name, kwargs=dict(zip(sorted(params), values, strict=True))))
        except NoReverseMatch:
            continue
    return paths[:1]


ROUTES = sorted(
    {
        (path, name)
        for name, params in walk(get_resolver().url_patterns)
        if name not in PUBLIC and not name.startswith("admin:")
        for path in concrete(name, params)
    }
)


def test_every_named_route_is_visited():
    names = {name for name, _params in walk(get_resolver().url_patterns) if not name.startswith("admin:")}

    assert names - {name for _path, name in ROUTES} == PUBLIC
    assert {"/", "/registry/", "/grants/", "/rollout/reports/", "/api/v1/villages/"} <= {path for path, _ in ROUTES}


@pytest.mark.parametrize("path, name", ROUTES)
def test_an_anonymous_visitor_gets_nothing(client, registry, path, name):
    for method in (client.get, client.post):
        response = method(path)
        if path.startswith("/api/"):
            assert response.status_code in (401, 404, 405), (path, response.status_code)
        else:
            assert response.status_code in (302, 404, 405), (path, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/login/")
