# ruff: noqa: RUF001 -- the point of these tests is letters that look alike.
"""Password guessing is bounded: the browser login, the Django admin's login and the API token endpoint
share one failure count per client address and account (django-axes, counted in the database). The
client address is the one the deployment trusts, and every spelling of a username that logs into an
account counts against that account."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from accounts.lockout import client_ip
from tests.accounts.spellings import spellings
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    return LIMIT


def test_the_login_form_refuses_after_repeated_failures(client, province_staff, limit):
    failures = [client.post("/login/", {"username": province_staff.username, "password": "salah"}) for _ in range(3)]

    blocked = client.post("/login/", {"username": province_staff.username, "password": PASSWORD})

    assert [r.status_code for r in failures] == [200, 200, 200]
    assert blocked.status_code == 429
    assert 'role="alert"' in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_correct_login_within_the_limit_works(client, province_staff, limit):
    client.post("/login/", {"username": province_staff.username, "password": "salah"})

    response = client.post("/login/", {"username": province_staff.username, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(province_staff.pk)


def test_a_locked_out_address_and_account_waits_for_the_cool_off(client, province_staff, limit, settings):
    for _ in range(limit):
        client.post("/login/", {"username": province_staff.username, "password": "salah"})
    assert client.post("/login/", {"username": province_staff.username, "password": PASSWORD}).status_code == 429

    settings.AXES_COOLOFF_TIME = lambda request: __import__("datetime").timedelta(0)  # the window has passed

    assert client.post("/login/", {"username": province_staff.username, "password": PASSWORD}).status_code == 302


def test_the_lockout_is_per_address_and_account(client, province_staff, auditor, limit):
    for _ in range(limit):
        client.post("/login/", {"username": province_staff.username, "password": "salah"})

    other_account = client.post("/login/", {"username": auditor.username, "password": PASSWORD})
    other_address = type(client)(REMOTE_ADDR="192.0.2.7").post(
        "/login/", {"username": province_staff.username, "password": PASSWORD}
    )

    assert other_account.status_code == 302
    assert other_address.status_code == 302


# --- every login path shares the count ----------------------------------------------------------


def _page_login(username: str, password: str, **headers) -> int:
    client = APIClient(**headers)
    return client.post("/login/", {"username": username, "password": password}).status_code


def _admin_login(username: str, password: str, **headers) -> int:
    client = APIClient(**headers)
    return client.post(reverse("admin:login"), {"username": username, "password": password}).status_code


def _token(username: str, password: str, **headers) -> int:
    return APIClient(**headers).post("/api/v1/auth/token/", {"username": username, "password": password}).status_code


LOGIN_PATHS = {"page": _page_login, "admin": _admin_login, "token": _token}
# What each path answers to a wrong password, a right one, and a locked-out client.
REFUSED = {"page": 200, "admin": 200, "token": 400}
ACCEPTED = {"page": 302, "admin": 302, "token": 200}


@pytest.fixture
def staff_operator(db):
    # The admin's login only accepts staff accounts: one that every path lets in.
    return UserFactory(username="operator", is_staff=True)


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_each_login_path_locks_out_and_even_the_right_password_waits(path, staff_operator, limit):
    login = LOGIN_PATHS[path]

    failures = [login("operator", f"salah{n}") for n in range(limit)]

    assert failures == [REFUSED[path]] * limit
    assert login("operator", PASSWORD) == 429


def test_failures_on_one_path_count_on_every_other(staff_operator, limit):
    _page_login("operator", "salah1")
    _admin_login("operator", "salah2")
    _token("operator", "salah3")

    assert [login("operator", PASSWORD) for login in LOGIN_PATHS.values()] == [429, 429, 429]


def test_the_token_endpoint_answers_a_lockout_in_json(staff_operator, limit):
    for n in range(limit):
        _token("operator", f"salah{n}")

    response = APIClient().post("/api/v1/auth/token/", {"username": "operator", "password": PASSWORD})

    assert response.status_code == 429
    assert "detail" in response.json()
    assert int(response["Retry-After"]) > 0


# --- the client address is the one the deployment trusts -----------------------------------------

# Headers a client can set to claim another address: none may move it into a fresh count.
FORGED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_X_CLIENT_IP",
    "HTTP_CLIENT_IP",
    "HTTP_X_CLUSTER_CLIENT_IP",
    "HTTP_TRUE_CLIENT_IP",
    "HTTP_CF_CONNECTING_IP",
)


def _forged(header: str, n: int) -> str:
    address = f"203.0.113.{n + 1}"
    return f"for={address}" if header == "HTTP_FORWARDED" else address


@pytest.mark.parametrize("header", FORGED_HEADERS)
@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_a_different_forwarded_address_on_every_try_changes_nothing(path, header, staff_operator, limit):
    login = LOGIN_PATHS[path]

    for n in range(limit):
        login("operator", f"salah{n}", **{header: _forged(header, n)})

    assert login("operator", PASSWORD, **{header: _forged(header, limit)}) == 429


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_behind_trusted_proxies_the_address_the_nearest_proxy_saw_counts(path, staff_operator, limit, settings):
    # One proxy in front: it appends the address it saw; what the client sent before that is not trusted.
    settings.TRUSTED_PROXY_COUNT = 1
    login = LOGIN_PATHS[path]
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    for n in range(limit):
        login("operator", f"salah{n}", **proxy, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.9")

    assert login("operator", PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.99, 198.51.100.9") == 429
    # Another client behind the same proxy has a count of its own.
    assert login("operator", PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.10") == ACCEPTED[path]


@pytest.mark.parametrize(
    "proxies, remote, forwarded, expected",
    [
        (0, "198.51.100.9", None, "198.51.100.9"),
        (0, "198.51.100.9", "203.0.113.1", "198.51.100.9"),  # no proxy trusted: the header is the client's word
        (1, "10.0.0.2", "203.0.113.1, 198.51.100.9", "198.51.100.9"),
        (2, "10.0.0.3", "203.0.113.1, 198.51.100.9, 10.0.0.2", "198.51.100.9"),
        (2, "10.0.0.3", "198.51.100.9", "198.51.100.9"),  # fewer entries than proxies: the first one
        (1, "10.0.0.2", None, "10.0.0.2"),  # the proxy sent no header: its own address
        (1, "10.0.0.2", "203.0.113.1, not-an-address", "10.0.0.2"),  # garbage: the proxy's address
        (1, "10.0.0.2", "203.0.113.1, 2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_follows_the_trusted_proxy_count(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"REMOTE_ADDR": remote} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})

    assert client_ip(RequestFactory().post("/login/", **headers)) == expected


def test_drf_throttles_read_the_same_trusted_proxy_count(settings):
    # DRF's own get_ident trusts X-Forwarded-For unless NUM_PROXIES is set.
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT


# --- every spelling of a username counts against its account ------------------------------------


def test_login_is_case_insensitive_and_reads_compatibility_forms(client, province_staff):
    for username in ("Staf.Provinsi", "STAF.PROVINSI", "ｓｔａｆ．ｐｒｏｖｉｎｓｉ", "𝐬𝐭𝐚𝐟.𝐩𝐫𝐨𝐯𝐢𝐧𝐬𝐢"):
        response = type(client)().post("/login/", {"username": username, "password": PASSWORD})
        assert response.status_code == 302, username


def test_every_spelling_that_logs_into_an_account_counts_against_it(province_staff, settings):
    settings.AXES_FAILURE_LIMIT = 10
    variants = spellings(province_staff.username)
    # The class is right: each of its spellings logs into the account.
    request = RequestFactory().post("/login/")
    for username in variants:
        assert authenticate(request, username=username, password=PASSWORD) == province_staff, username
        request = RequestFactory().post("/login/")
    _reset_lockouts()

    # Failures spread over ten spellings and two paths lock out every other spelling on both.
    for n, username in enumerate(variants[:10]):
        path = _token if n % 2 else _page_login
        assert path(username, "salah") in (200, 400), username
    answers = {username: (_page_login(username, PASSWORD), _token(username, PASSWORD)) for username in variants[10:]}

    assert {username: answer for username, answer in answers.items() if answer != (429, 429)} == {}
    assert len(answers) > 400


def _reset_lockouts() -> None:
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


def test_failures_under_several_spellings_add_up(client, province_staff, limit):
    # One account, one count: a failure typed as STAF and one as staf are two failures of staf.
    for username in ("STAF.PROVINSI", "Staf.Provinsi", "ｓｔａｆ．ｐｒｏｖｉｎｓｉ"):
        client.post("/login/", {"username": username, "password": "salah"})

    assert client.post("/login/", {"username": "staf.provinsi", "password": PASSWORD}).status_code == 429


# --- the login error reads naturally --------------------------------------------------------------


@pytest.mark.parametrize(
    "language, message",
    [
        ("id", "Nama pengguna atau sandi salah. Sandi membedakan huruf besar dan kecil."),
        ("en", "The username or password is not correct. The password is case-sensitive."),
    ],
)
def test_the_login_error_reads_naturally(client, province_staff, language, message):
    client.cookies["django_language"] = language

    response = client.post("/login/", {"username": province_staff.username, "password": "salah"})

    with translation.override(language):
        assert list(response.context["form"].non_field_errors()) == [message]
    assert message in response.content.decode()
    assert "nama pengguna nama pengguna" not in response.content.decode().lower()


def test_one_address_spraying_many_accounts_is_bounded(client, province_staff, limit, settings):
    # Before the address bound, one address could try `limit - 1` passwords on every account it
    # could name and never be refused.
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 5
    sprayed = UserFactory.create_batch(5)
    answers = [client.post("/login/", {"username": user.username, "password": "salah"}).status_code for user in sprayed]

    own_password = client.post("/login/", {"username": province_staff.username, "password": PASSWORD})
    token = APIClient().post(
        "/api/v1/auth/token/", {"username": province_staff.username, "password": PASSWORD}, format="json"
    )
    elsewhere = type(client)(REMOTE_ADDR="192.0.2.7").post(
        "/login/", {"username": province_staff.username, "password": PASSWORD}
    )

    assert answers == [200] * 5
    assert own_password.status_code == 429
    assert "_auth_user_id" not in client.session
    assert token.status_code == 429
    assert elsewhere.status_code == 302


def test_the_address_bound_forgets_after_the_cool_off(client, province_staff, limit, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    for user in UserFactory.create_batch(2):
        client.post("/login/", {"username": user.username, "password": "salah"})
    assert client.post("/login/", {"username": province_staff.username, "password": PASSWORD}).status_code == 429

    settings.AXES_COOLOFF_TIME = lambda request: __import__("datetime").timedelta(0)  # the window has passed

    assert client.post("/login/", {"username": province_staff.username, "password": PASSWORD}).status_code == 302
