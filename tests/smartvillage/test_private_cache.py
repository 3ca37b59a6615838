"""A shared computer's browser keeps no copy of a signed-in user's pages, exports or API answers.

Every route of the resolver (the permission matrix's TABLE), every method it answers, as every signed-in
role, by session and (for the API) by token: each answer, whatever its status, is
`Cache-Control: private, no-store` (smartvillage.middleware.PrivateCacheMiddleware).

But the public transparency pages and open data (PUBLIC_DATA): the same answer for everyone, rendered without
the request (no user, no session, no CSRF token), so a shared cache may keep it whoever asked: a GET of one
of them is `public` for a signed-in visitor too, with the anonymous visitor's very body, no cookie set and
no Vary on the cookie (issue 16; it was private for every signed-in answer before).
"""

from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils.cache import get_max_age
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.smartvillage.test_access_matrix import RESOLVED, TABLE, _client, _send

pytestmark = pytest.mark.django_db

ROLES = ("auditor", "officer_a", "province_staff", "province_admin")
PUBLIC_DATA = {name for name in TABLE if name.startswith("public:")}


def _private(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


def _token_client(world, role: str) -> APIClient:
    client = APIClient()
    client.raise_request_exception = False
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user_id=world.users[role]).key}")
    return client


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_answer_to_a_signed_in_user_is_private_and_not_stored(matrix_world, name):
    route = TABLE[name]
    cached = []
    for variant in route.variants:
        url = reverse(name, kwargs=variant.kwargs(matrix_world) or None)
        if variant.query is not None:
            url = f"{url}?{urlencode(variant.query(matrix_world), doseq=True)}"
        for method in route.expect:
            body = variant.body(matrix_world) if variant.body is not None and method != "get" else None
            for role in ROLES:
                clients = {"session": _client(matrix_world, role)}
                if url.startswith("/api/"):
                    clients["token"] = _token_client(matrix_world, role)
                for how, client in clients.items():
                    with transaction.atomic():  # every request meets the same world
                        response = _send(client, route, method, url, body)
                        transaction.set_rollback(True)
                    if name in PUBLIC_DATA and method == "get":
                        if not _public_as_for_anyone(response, _send(APIClient(), route, method, url, None)):
                            cached.append(f"{method.upper()} {url} as {role} ({how}): not the public answer")
                    elif not _private(response):
                        cached.append(f"{method.upper()} {url} as {role} ({how}): {response.status_code}")

    assert cached == []


def _public_as_for_anyone(response, anonymous) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return (
        response.status_code == 200
        and "public" in directives
        and get_max_age(response) > 0
        and response.content == anonymous.content
        and not response.cookies
        and "Cookie" not in response.get("Vary", "")
    )


def test_the_public_data_routes_are_the_public_apps():
    assert PUBLIC_DATA == {name for name in RESOLVED if name.startswith("public:")} != set()


def test_every_route_of_the_resolver_is_walked():
    assert set(RESOLVED) <= set(TABLE)


def test_an_export_is_private_and_not_stored_whoever_serves_it(matrix_world):
    client = _client(matrix_world, "officer_a")

    for file_format in ("csv", "xlsx"):
        response = client.get(reverse("dashboard:export", args=["villages"]), {"file": file_format})

        assert response.status_code == 200 and _private(response), response.get("Cache-Control")


@override_settings(ROOT_URLCONF="tests.smartvillage.error_urls")
def test_a_view_that_sets_its_own_cache_policy_keeps_it(matrix_world):
    response = _client(matrix_world, "province_staff").get("/own-cache-policy/")

    assert response.status_code == 200
    assert not _private(response) and get_max_age(response) == 60
