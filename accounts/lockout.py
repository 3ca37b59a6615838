"""Password guessing: what django-axes counts failed logins by, and what a locked-out client gets.

django-axes hooks `authenticate()` itself, so the browser login, the Django admin's login and the API
token endpoint share one count per client address and account, kept in PostgreSQL (no cache, so a
Redis outage cannot take the login down). The settings (`AXES_*` in smartvillage/settings.py) point
here for the three decisions that are the portal's own:

- the client address: the socket's, or the one the nearest trusted proxy saw (`TRUSTED_PROXY_COUNT`);
- the account: every spelling that logs into an account counts against that account;
- the answer to a locked-out client: the login page (or JSON for the API) with status 429;
- a second, wider bound per client address over all accounts (`LOGIN_ADDRESS_FAILURE_LIMIT`), against
  password spraying: one address trying a few passwords on each of many accounts.
"""

import ipaddress
import logging
import unicodedata

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.forms import LoginForm, lockout_message
from accounts.models import User

logger = logging.getLogger(__name__)

# Longest username the lockout table records; longer input cannot name an account anyway.
USERNAME_MAX_LENGTH = 150


def client_ip(request: HttpRequest) -> str:
    """The client's address as far as the deployment can vouch for it.

    With no proxy trusted (`TRUSTED_PROXY_COUNT=0`, the default) that is the socket's address: any
    header is the client's own word. Behind N proxies that each append the address they saw to
    X-Forwarded-For, the Nth entry from the right is what the outermost trusted proxy saw (DRF's rule
    for NUM_PROXIES); whatever the client put before it is ignored. An entry that is not an address
    (a misconfigured proxy) falls back to the socket's address, the strict choice."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    candidate = entries[-min(proxies, len(entries))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        logger.warning("X-Forwarded-For entry %r is not an address; counting the proxy's address", candidate[:64])
        return remote


class LockoutHandler(AxesDatabaseHandler):
    """AXES_HANDLER: axes' count per client address and account, plus one per client address alone.

    The per-account bound stops guessing one account's password; it lets one address try the limit's
    worth of passwords on every account it can name. The address bound stops that: past
    `LOGIN_ADDRESS_FAILURE_LIMIT` failures (all accounts together) within the cool-off, every login from
    the address is refused, the right password too. It is set well above the per-account limit, so an
    office behind one NAT address is not locked out by a few colleagues' typos.
    """

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def address_failures(request) -> int:
    """Failed logins from the request's client address within the cool-off, over all accounts."""
    attempts = AccessAttempt.objects.filter(ip_address=client_ip(request))
    cool_off = get_cool_off(request)
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def _typed_username(request, credentials: dict | None) -> str | None:
    if credentials is not None:
        return credentials.get("username")
    data = getattr(request, "data", None) or request.POST
    return data.get("username")


def login_username(request, credentials: dict | None = None) -> str | None:
    """The name failures are counted under: the account's own username when the typed one logs into an
    account (`STAF`, a full-width `staf` and `staf` are all counted as `staf`), else the typed name in NFKC,
    lowercase. The account is found by the lookup the login itself uses, so no spelling that
    authenticates can count elsewhere."""
    typed = _typed_username(request, credentials)
    if not isinstance(typed, str):
        return None
    # Axes asks several times per attempt; one lookup per request and name.
    memo = request.__dict__.setdefault("_login_usernames", {})
    if typed not in memo:
        folded = unicodedata.normalize("NFKC", typed).lower().replace("\x00", "")[:USERNAME_MAX_LENGTH]
        account = None
        if len(typed) <= USERNAME_MAX_LENGTH and "\x00" not in typed:
            account = User.objects.with_username(typed).values_list("username", flat=True).first()
        memo[typed] = account or folded
    return memo[typed]


def locked_out(request) -> bool:
    """Whether this request was refused by the lockout before its password was checked.

    The failure that reaches the limit is answered as any wrong password (its password was checked and
    counted); only the attempts after it are refused unread."""
    return bool(getattr(request, "axes_locked_out", False)) and getattr(request, "axes_failures_since_start", 0) is None


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, for the logins of the page and the Django admin (the API answers in its
    own view): the login page with the reason, status 429."""
    if original_response is not None and not locked_out(request):
        return original_response
    typed = _typed_username(request, credentials) or ""
    context = {
        "form": LoginForm(request, initial={"username": typed[:USERNAME_MAX_LENGTH]}),
        "throttled": lockout_message(),
        "next": request.POST.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(int(settings.LOGIN_COOLOFF_MINUTES) * 60)
    return response
