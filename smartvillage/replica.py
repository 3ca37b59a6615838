"""Reads from a PostgreSQL streaming replica, writes and fresh reads from the primary.

With `DATABASE_REPLICA_URL` set, settings add the database alias `replica` and this module decides, per
request, where its reads go:

- Everything starts on the primary (`default`): management commands, Celery tasks, the shell, and every
  request that is not a GET or HEAD of a route named in `DATABASE_REPLICA_ROUTES` (the public pages, the
  dashboards, the API's list and detail reads).
- Such a read goes to the replica while the replica is up and its lag within
  `DATABASE_REPLICA_MAX_LAG_SECONDS` (`replica_health`, measured every `DATABASE_REPLICA_CHECK_SECONDS`
  per process), except: who a request is (sessions, users, tokens, lockouts: `PRIMARY_ONLY_APPS`), so a
  revoked token or a new password takes effect at once; reads inside a transaction; and everything after
  the request's first write.
- *Read your writes*: a request that wrote pins its client to the primary for `pin_seconds()` (the lag
  bound plus the check interval): by a cookie, and for clients that send an Authorization header (API
  tokens) also by a cache entry keyed by the header's digest (shared across workers when CACHE_URL names a
  Redis). Why that is long enough: a replica is used only if its lag was within the bound at a check at
  most one interval ago, so it holds every write older than the bound plus the interval.
- A replica that fails in the middle of a request (stopped, connection dropped) is marked down and the
  request's view runs again on the primary (GET and HEAD only, which write nothing): no 5xx, a log line.

Without `DATABASE_REPLICA_URL` the router sends everything to `default`, as does a replica alias that is
the primary itself (the test suite's mirror, `TEST: {"MIRROR": "default"}`).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import logging
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.utils import timezone

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"
SAFE_METHODS = ("GET", "HEAD")
# Who a request is, read on every request: always from the primary, so a revoked token, a deactivated
# account, a new password (which ends sessions) or a lockout takes effect at once, not after the lag.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "authtoken", "axes", "accounts"})
PIN_COOKIE = "primary_reads_until"
PIN_CACHE_PREFIX = "replica-pin:"


def configured() -> bool:
    return REPLICA in settings.DATABASES


def _server(alias: str) -> tuple:
    params = connections[alias].settings_dict
    return (params.get("HOST") or "", str(params.get("PORT") or ""), params.get("NAME"))


def is_separate_server() -> bool:
    """A replica alias that is the primary itself (the tests' mirror, or the same URL twice) is no replica."""
    return configured() and _server(REPLICA) != _server(PRIMARY)


def pin_seconds() -> int:
    return settings.DATABASE_REPLICA_MAX_LAG_SECONDS + settings.DATABASE_REPLICA_CHECK_SECONDS


# --- the request's route ---------------------------------------------------------------------------


@dataclass
class RequestRoute:
    """Where one request reads: the replica only once the middleware chose it; primary after a write."""

    reads: str = PRIMARY
    wrote: bool = False


_request: ContextVar[RequestRoute | None] = ContextVar("replica_request_route", default=None)


def current_reads() -> str:
    route = _request.get()
    return route.reads if route is not None else PRIMARY


class ReplicaRouter:
    """The database router (settings.DATABASE_ROUTERS). Writes and migrations: the primary, always."""

    def db_for_read(self, model, **hints) -> str:
        if current_reads() != REPLICA or model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        # A read inside a transaction on the primary belongs to that transaction (it may follow its writes).
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        route = _request.get()
        if route is not None:
            # Read your writes: whatever this request reads from now on comes from the primary.
            route.wrote = True
            route.reads = PRIMARY
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, two servers

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


# --- the replica's health --------------------------------------------------------------------------


class ReplicaState:
    NOT_CONFIGURED = "not_configured"
    UP = "up"
    LAGGING = "lagging"
    DOWN = "down"


@dataclass(frozen=True)
class ReplicaHealth:
    state: str
    checked_at: datetime.datetime
    lag_seconds: float | None = None
    lag_bytes: int | None = None
    error: str = ""

    @property
    def usable(self) -> bool:
        return self.state == ReplicaState.UP

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            # Unknown (None) rather than infinite: JSON has no infinity.
            "lag_seconds": round(self.lag_seconds, 3) if self.lag_seconds not in (None, float("inf")) else None,
            "lag_bytes": self.lag_bytes,
            "max_lag_seconds": settings.DATABASE_REPLICA_MAX_LAG_SECONDS,
            "checked_at": self.checked_at.isoformat(),
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class _Monitor:
    """The process's view of the replica: the last check, and when it last held everything the primary had."""

    health: ReplicaHealth | None = None
    checked_monotonic: float = 0.0
    caught_up_monotonic: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_monitor = _Monitor()

# The replica's lag: how much WAL it has not replayed of what the primary had written when asked (bytes),
# and how long ago its last replayed transaction committed on the primary (seconds; NULL before any).
LAG_SQL = """
    SELECT pg_is_in_recovery(),
           pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn()),
           EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
"""


def _measure() -> ReplicaHealth:
    now = timezone.now()
    if not is_separate_server():
        return ReplicaHealth(state=ReplicaState.UP, checked_at=now, lag_seconds=0.0, lag_bytes=0)
    # The primary's position first: a replica that has replayed up to it holds everything written before now.
    sampled = time.monotonic()
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        primary_lsn = cursor.fetchone()[0]
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL, [primary_lsn])
            in_recovery, behind, replay_age = cursor.fetchone()
    except DatabaseError as error:
        with contextlib.suppress(DatabaseError):
            connections[REPLICA].close()
        return ReplicaHealth(state=ReplicaState.DOWN, checked_at=now, error=_describe(error))
    if not in_recovery:
        # Promoted, or pointed at a primary by mistake: it no longer follows this primary's writes.
        return ReplicaHealth(state=ReplicaState.DOWN, checked_at=now, error="not a standby (not in recovery)")
    behind = max(0, int(behind or 0))
    if behind == 0:
        _monitor.caught_up_monotonic = sampled
        lag = 0.0
    else:
        # An upper bound of how old its data may be: since it last held all the primary had (seen by this
        # process), or since its last replayed commit (which overstates the lag after an idle primary).
        bounds = [float(replay_age)] if replay_age is not None else []
        if _monitor.caught_up_monotonic is not None:
            bounds.append(time.monotonic() - _monitor.caught_up_monotonic)
        lag = min(bounds) if bounds else float("inf")
    state = ReplicaState.LAGGING if lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS else ReplicaState.UP
    return ReplicaHealth(state=state, checked_at=now, lag_seconds=lag, lag_bytes=behind)


def _describe(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def _record(health: ReplicaHealth) -> ReplicaHealth:
    previous = _monitor.health
    _monitor.health = health
    _monitor.checked_monotonic = time.monotonic()
    was = previous.state if previous is not None else ReplicaState.UP
    if health.state != was:
        if health.usable:
            logger.warning("Read replica %s again: reads go to the replica.", health.state)
        else:
            logger.warning(
                "Read replica %s (lag %s s, %s): reads fall back to the primary.",
                health.state,
                "unknown" if health.lag_seconds is None else f"{health.lag_seconds:.1f}",
                health.error or f"{health.lag_bytes} bytes behind",
            )
    return health


def replica_health(*, force: bool = False) -> ReplicaHealth:
    """The replica's state and lag, measured at most every DATABASE_REPLICA_CHECK_SECONDS in this process."""
    if not configured():
        return ReplicaHealth(state=ReplicaState.NOT_CONFIGURED, checked_at=timezone.now())
    with _monitor.lock:
        fresh = time.monotonic() - _monitor.checked_monotonic < settings.DATABASE_REPLICA_CHECK_SECONDS
        if _monitor.health is not None and fresh and not force:
            return _monitor.health
        return _record(_measure())


def mark_down(error: Exception) -> None:
    """A replica that failed under a request: down until the next check."""
    with _monitor.lock:
        _record(ReplicaHealth(state=ReplicaState.DOWN, checked_at=timezone.now(), error=_describe(error)))
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()


def forget_health() -> None:
    """Measure afresh at the next request (tests, and after a deliberate change)."""
    with _monitor.lock:
        _monitor.health = None
        _monitor.checked_monotonic = 0.0
        _monitor.caught_up_monotonic = None


# --- the middleware --------------------------------------------------------------------------------


def reads_replica(request) -> bool:
    """Whether the request's route is one whose reads may come from the replica (DATABASE_REPLICA_ROUTES)."""
    match = getattr(request, "resolver_match", None)
    if match is None or request.method not in SAFE_METHODS:
        return False
    return any(fnmatchcase(match.view_name, pattern) for pattern in settings.DATABASE_REPLICA_ROUTES)


def _credential_digest(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION")
    return hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest() if header else None


def _pinned(request) -> bool:
    """Whether the client wrote within pin_seconds(): then all its reads come from the primary."""
    try:
        if float(request.COOKIES.get(PIN_COOKIE, "0")) > time.time():
            return True
    except ValueError:
        pass
    digest = _credential_digest(request)
    if digest is None:
        return False
    try:
        return cache.get(PIN_CACHE_PREFIX + digest) is not None
    except Exception:  # a cache outage (Redis errors vary): unsure, so the primary
        logger.warning("Cache unreachable: read-your-writes pin unknown, reading the primary.", exc_info=True)
        return True


def _pin(request, response) -> None:
    seconds = pin_seconds()
    if "public" not in response.get("Cache-Control", ""):  # a shared cache must never store a Set-Cookie
        response.set_cookie(
            PIN_COOKIE,
            str(int(time.time()) + seconds),
            max_age=seconds,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    digest = _credential_digest(request)
    if digest is not None:
        try:
            cache.set(PIN_CACHE_PREFIX + digest, 1, timeout=seconds)
        except Exception:  # a cache outage: the cookie still pins clients that keep cookies
            logger.warning("Cache unreachable: read-your-writes pin not stored for a token client.", exc_info=True)


class ReplicaReadsMiddleware:
    """Chooses where each request reads (see the module's docstring); last in MIDDLEWARE, so that its
    process_exception sees a database error first and can run the view again on the primary."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = configured()

    def __call__(self, request):
        if not self.enabled:
            return self.get_response(request)
        route = RequestRoute()
        token = _request.set(route)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if route.wrote or request.method not in SAFE_METHODS:
            _pin(request, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        route = _request.get()
        if route is None or route.wrote or not reads_replica(request) or not is_separate_server():
            return None
        if _pinned(request):
            return None
        try:
            usable = replica_health().usable
        except DatabaseError:  # the primary did not answer the check: the view will meet that (a 503)
            return None
        if usable:
            route.reads = REPLICA
        return None

    def process_exception(self, request, exception):
        route = _request.get()
        if route is None or route.reads != REPLICA or not isinstance(exception, OperationalError | InterfaceError):
            return None
        if connections[REPLICA].is_usable():
            return None  # the replica answers: the failure was elsewhere (DatabaseUnavailableMiddleware's 503)
        mark_down(exception)
        logger.warning("Read replica failed during %s %s: answered from the primary.", request.method, request.path)
        route.reads = PRIMARY
        match = request.resolver_match
        try:
            response = match.func(request, *match.args, **match.kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
        except (OperationalError, InterfaceError):
            return None  # the primary too: the original error goes on to the 503 answer
        return response
