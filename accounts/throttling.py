"""The throttles of the API and of the web pages, one implementation: DRF's ``SimpleRateThrottle``.

Scopes and what each counts (rates in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, fallbacks below):

- ``login``, ``register_attempt``, ``password_reset``: requests per client address, on the API and
  on the web pages (POSTs only there);
- ``register``: sign-ups that created an account, per client address (API and page alike): a
  person trying names that are taken is held up by ``register_attempt``'s minute, not an hour;
- ``profile``: changes per account, on the API and on the web profile page (whose answers tell
  whether an address is taken, and whether a ``current_password`` was right);
- ``email_confirm``: email confirmations per client address (API and web page alike);
- ``email_resend``: new confirmation links asked for, per account (API and web page alike): one
  every three minutes, as django-allauth's default, since each one mails a stranger's mailbox if
  the address is not the person's;
- ``login_account``: failed logins per account and typed identifier, whatever its spelling (the
  backend asks): ``maria`` and ``MARIA`` count together, ``maria`` and her email count apart, so a
  refusal never tells which names share an account; kept beside the account (``LoginFailures``),
  which the login's own statement reads, and in the cache for names without an account;
- ``email_mail``: mails an account's own requests cause (confirmation links, change notices, a
  resent link), counted where every such mail passes
  (:func:`~authfold.accounts.email_verification.mail_after_commit`);
- ``email_destination``: mails to one address (its caseless key), of every kind, password resets
  too. A mail beyond either rate is not sent; an email change that would pass the account's is
  refused before it is saved.

Clients are told apart by ``REMOTE_ADDR``. ``X-Forwarded-For`` is read only when the project
declares how many proxies of its own append to it (``REST_FRAMEWORK["NUM_PROXIES"]``): anybody can
send that header, and DRF's default (``None``) keys on the whole of it, so a new forged value per
request escaped the throttle and a forged ``127.0.0.1`` throttled the real one.

The other counters live in the cache ``AUTHFOLD_CACHE`` names (the host's ``default`` unless set),
an alias beside the host's own caches. Only a cache every worker shares (Redis, the database
cache) makes a limit hold on a server with several processes; with the local-memory cache each
worker counts alone.
"""

import math
import re

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import router, transaction
from rest_framework import throttling
from rest_framework.settings import api_settings

from authfold.accounts.caseless import email_digest, username_digest
from authfold.accounts.conf import authfold_setting

# Used only when the project's DEFAULT_THROTTLE_RATES has no rate for the scope: a login, sign-up,
# reset or rename endpoint must stay throttled (DRF's own answer to a missing rate is a 500).
FALLBACK_RATES = {
    "login": "10/min",
    "register": "10/hour",
    "register_attempt": "10/min",
    "password_reset": "10/hour",
    "profile": "30/hour",
    "email_confirm": "30/hour",
    "email_resend": "1/3m",
    "login_account": "10/hour",
    "email_mail": "10/hour",
    "email_destination": "5/hour",
}

# DRF's rate, "count/period" with the period's first letter (s, m, h, d) as its unit, here with an
# optional number of units before it: "1/3m" (or "1/3min") is one every three minutes.
RATE = re.compile(r"\s*(?P<count>\d+)\s*/\s*(?P<units>\d*)\s*(?P<unit>[smhd])[a-z]*\s*")
SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ProjectRatesMixin:
    """Reads the project's rate for the scope on each use, with our fallback; ``None`` turns the
    scope's throttle off. (DRF's own classes copy the rates once, at import: a project that
    changes them, or a test's ``settings`` override, would not be obeyed.)"""

    def get_rate(self):
        rates = api_settings.DEFAULT_THROTTLE_RATES
        return rates[self.scope] if self.scope in rates else FALLBACK_RATES[self.scope]

    def parse_rate(self, rate):
        """DRF's rates, and a period of several units (``"1/3m"``), which DRF's own parser reads
        as one unit. A rate it cannot read fails loudly, never open."""
        if rate is None:
            return (None, None)
        match = RATE.fullmatch(rate)
        if match is None:
            raise ImproperlyConfigured(
                f"Throttle rate {rate!r} for scope {self.scope!r} is not 'count/period', "
                "such as '10/hour' or '1/3m'."
            )
        units = int(match["units"] or 1)
        return (int(match["count"]), units * SECONDS_PER_UNIT[match["unit"]])


class ConfiguredCacheMixin:
    """Counts in the cache ``AUTHFOLD_CACHE`` names, read on each use. (DRF's classes count in
    ``default``: a host whose default cache is its own, or not shared, keeps it.)"""

    @property
    def cache(self):
        return caches[authfold_setting("AUTHFOLD_CACHE")]


class ClientAddressMixin:
    """The client is ``REMOTE_ADDR`` unless the project declares its proxies (``NUM_PROXIES``);
    then DRF takes the address that many hops from the end of ``X-Forwarded-For``."""

    def get_ident(self, request):
        if api_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR")
        return super().get_ident(request)


class ScopedRateThrottle(
    ProjectRatesMixin, ConfiguredCacheMixin, ClientAddressMixin, throttling.ScopedRateThrottle
):
    """DRF's scoped throttle (the view's ``throttle_scope``; per account when signed in, else per
    client address), with the project's rates and our client address."""


class WriteScopedRateThrottle(ScopedRateThrottle):
    """Throttles only the requests that change something (reading your own account is free)."""

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


# How a login named the account, as each failure in its LoginFailures row is marked.
TYPED_USERNAME, TYPED_EMAIL, TYPED_RENAMED = "", "e", "r"


class CountingThrottle(ProjectRatesMixin, ConfiguredCacheMixin, throttling.SimpleRateThrottle):
    """DRF's sliding window for one key of the scope, outside any view: ``allows_another_try``
    asks, ``record`` counts one. (A view's throttle counts requests; these count events a
    request may or may not cause: a failed login, a mail.)"""

    def __init__(self, ident):
        super().__init__()
        self.key = self.cache_format % {"scope": self.scope, "ident": ident}

    def allows_another_try(self):
        """Whether one more is within the rate now (counts nothing)."""
        if self.rate is None:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) < self.num_requests

    def record(self):
        """Counts one (DRF's ``throttle_success`` is what records a request)."""
        if self.rate is not None:
            self.allows_another_try()  # reads the history and drops what has expired
            self.throttle_success()


class SignUpThrottle(ClientAddressMixin, CountingThrottle):
    """Sign-ups that created an account, per client address (scope ``register``), on the sign-up
    page and the API alike; every sign-up post counts in ``register_attempt`` as well."""

    scope = "register"

    def __init__(self, request):
        # DRF's ScopedRateThrottle's key for an anonymous client: one count with it.
        super().__init__(self.get_ident(request))


class FailedLoginThrottle(CountingThrottle):
    """Failed logins for a typed identifier (scope ``login_account``), keyed by its caseless key,
    so ``maria``, ``MARIA`` and ``ＭＡＲＩＡ`` count together.

    Only failures count, and only the password check is refused while the limit is reached: an
    attacker who guesses from many addresses slows the account's holder down, and never gets in.
    """

    scope = "login_account"

    # Set on the request whose login was refused for this throttle, to the seconds to wait: the
    # backend can only refuse the login, and the page or API view turns that into a 429.
    REFUSED_ATTRIBUTE = "authfold_login_retry_after"

    def __init__(self, username):
        super().__init__(username_digest(username))

    def record_failure(self):
        """Counts one wrong password."""
        self.record()


class AccountLoginThrottle(FailedLoginThrottle):
    """:class:`FailedLoginThrottle` for a name that has an account: its failures are kept in the
    account's ``LoginFailures`` row, which every worker shares, so no cache is asked.

    The row counts each way in apart (``typed``: the account's username in any case, its email,
    or the old username it was renamed from): were they one count, ten failures by email would
    make a guess at the username answer 429 exactly when it names the same account.

    The history comes with the user when the login statement found it (``failed_logins``, its
    ``authfold_failed_logins`` column; ``None`` when there is no row); otherwise one query reads it.
    """

    NOT_READ = object()

    def __init__(self, user, failed_logins=NOT_READ, typed=TYPED_USERNAME):
        super().__init__(user.get_username())
        self.user = user
        self.failed_logins = failed_logins
        self.typed = typed

    def allows_another_try(self):
        if self.rate is None:
            return True
        if self.failed_logins is self.NOT_READ:
            self.failed_logins = self.stored_failures().values_list("failed_at", flat=True).first()
        self.now = self.timer()
        self.stored = [
            (typed, moment)
            for typed, moment in parse_failed_at(self.failed_logins)
            if moment > self.now - self.duration
        ]
        self.history = [moment for typed, moment in self.stored if typed == self.typed]
        return len(self.history) < self.num_requests

    def record_failure(self):
        """Adds this failure to the account's row, locked, so failures counted at the same moment
        by other workers are kept (read, append and write in one transaction)."""
        if self.rate is None:
            return
        failures = self.stored_failures()
        with transaction.atomic(using=failures.db):
            row, _ = failures.select_for_update().get_or_create(user_id=self.user.pk)
            self.failed_logins = row.failed_at
            self.allows_another_try()  # the history as stored, without what has expired
            self.stored.insert(0, (self.typed, self.now))
            self.history.insert(0, self.now)
            row.failed_at = " ".join(f"{typed}{moment!r}" for typed, moment in self.stored)
            row.save(update_fields=["failed_at"])

    def stored_failures(self):
        from authfold.accounts.models import LoginFailures

        using = router.db_for_write(LoginFailures, instance=self.user)
        return LoginFailures.objects.using(using).filter(user_id=self.user.pk)


class AccountMailThrottle(CountingThrottle):
    """Mails an account's own requests cause (scope ``email_mail``)."""

    scope = "email_mail"

    def __init__(self, user):
        super().__init__(str(user.pk))


class DestinationMailThrottle(CountingThrottle):
    """Mails to one address, in any case or spelling of its domain (scope ``email_destination``)."""

    scope = "email_destination"

    def __init__(self, address):
        super().__init__(email_digest(address))


def take_mail_allowance(recipient, account=None):
    """Whether a mail to ``recipient`` (caused by ``account``'s request, if given) may go out now;
    if so, it is counted. A mail refused by one rate counts against neither."""
    throttles = [DestinationMailThrottle(recipient)]
    if account is not None:
        throttles.append(AccountMailThrottle(account))
    if not all(throttle.allows_another_try() for throttle in throttles):
        return False
    for throttle in throttles:
        throttle.record()
    return True


def parse_failed_at(failed_at):
    """``LoginFailures.failed_at`` as ``(typed, time)`` pairs, newest first: each failure's time
    (DRF's throttle history) after the letter of how the account was named (none: its username)."""
    pairs = []
    for entry in (failed_at or "").split():
        typed = entry[0] if entry[0] in (TYPED_EMAIL, TYPED_RENAMED) else TYPED_USERNAME
        pairs.append((typed, float(entry[len(typed) :])))
    return pairs


def retry_after(throttle):
    """Whole seconds for a ``Retry-After`` header (rounded up, as DRF's ``Throttled`` does); the
    whole period when DRF has no estimate (more requests counted than the rate, after a race)."""
    wait = throttle.wait()
    return math.ceil(throttle.duration if wait is None else wait)
