"""Limits on password guessing, per account and per client address, kept in PostgreSQL.

A password check costs a deliberately slow hash (about 0.5 s of a core with Django's default
PBKDF2), so a guesser could otherwise keep both workers busy and get the pod restarted by
its probes. Failed checks are counted in a fixed window per key (LoginThrottle rows); once a
key reaches its limit, attempts are refused until the window ends, before any hash is
computed: the refusal is one indexed query. The rows are in PostgreSQL so that every
worker, pod and restart shares them, with no extra service.

The check sits in ThrottleBackend, the first authentication backend, so it covers every
caller of authenticate(): the token API, the login form and the admin login.
"""

import hashlib
import ipaddress
import math
import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from .models import LoginThrottle

_TABLE = LoginThrottle._meta.db_table

# One statement per failure: a new key starts at 1, an expired window starts again at 1.
_RECORD = f"""
INSERT INTO {_TABLE} AS t (key, window_start, failures)
SELECT k, %(now)s, 1 FROM unnest(%(keys)s::text[]) AS k
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN t.window_start <= %(cutoff)s THEN 1 ELSE t.failures + 1 END,
  window_start = CASE WHEN t.window_start <= %(cutoff)s THEN %(now)s ELSE t.window_start END
"""


def client_address(request: HttpRequest) -> str:
    """The client's address. Behind ONEBOX_TRUSTED_PROXIES proxies (the ingress: 1), the
    entry that the outermost trusted proxy appended to X-Forwarded-For (X-Real-IP if there
    is none); with 0 (the default) headers are ignored, since any client can write them."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.ONEBOX_TRUSTED_PROXIES
    address = remote
    if trusted > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if forwarded:
            address = forwarded[-trusted] if len(forwarded) >= trusted else forwarded[0]
        else:
            address = request.META.get("HTTP_X_REAL_IP", "").strip() or remote
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return remote
    if parsed.version == 6:
        # One host usually has a whole /64: count it as one address.
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _account_key(username: str) -> str:
    # Hashed: a user name may be long or odd, and the table need not show them.
    return "account:" + hashlib.sha256(username.casefold().encode()).hexdigest()[:40]


def _limits(request: HttpRequest | None, username: object) -> dict[str, int]:
    limits = {}
    if isinstance(username, str) and username:
        limits[_account_key(username)] = settings.ONEBOX_LOGIN_FAILURES_PER_ACCOUNT
    if request is not None:
        limits["address:" + client_address(request)] = settings.ONEBOX_LOGIN_FAILURES_PER_ADDRESS
    return limits


def _window() -> timedelta:
    return timedelta(seconds=settings.ONEBOX_LOGIN_WINDOW_SECONDS)


def retry_after(request: HttpRequest | None, username: object) -> int | None:
    """Seconds until an attempt is allowed again, or None if it is allowed now."""
    limits = _limits(request, username)
    now = timezone.now()
    rows = LoginThrottle.objects.filter(key__in=limits, window_start__gt=now - _window())
    waits = [
        (row.window_start + _window() - now).total_seconds()
        for row in rows
        if row.failures >= limits[row.key]
    ]
    return max(1, math.ceil(max(waits))) if waits else None


def record_failure(request: HttpRequest | None, username: object) -> None:
    limits = _limits(request, username)
    if not limits:
        return
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_RECORD, {"keys": list(limits), "now": now, "cutoff": now - _window()})
        # Expired rows are cleared now and then, not on every failure, to keep a failure at
        # one statement; a guesser from many addresses leaves at most a window's worth.
        if random.random() < 0.02:
            LoginThrottle.objects.filter(window_start__lte=now - _window()).delete()


def record_success(username: str) -> None:
    """The account's count starts again (the address's does not: a guesser who also holds
    one account must not reset their address by logging in to it)."""
    LoginThrottle.objects.filter(key=_account_key(username)).delete()


class ThrottleBackend:
    """First in AUTHENTICATION_BACKENDS: refuses, before any password hash, an attempt for
    an account or from an address over its limit. authenticate() stops at PermissionDenied
    and returns None; request.login_retry_after tells the view to answer 429."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        wait = retry_after(request, username)
        if wait is not None:
            if request is not None:
                request.login_retry_after = wait
            raise PermissionDenied
        return None

    # No get_user(): it never logs anyone in, and login()/force_login() pick the first
    # backend that has one.


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    if request is not None and getattr(request, "login_retry_after", None):
        return  # refused without a check: not another failure
    record_failure(request, credentials.get("username"))


@receiver(user_logged_in)
def _clear_account(sender, request, user, **kwargs):
    record_success(user.get_username())
