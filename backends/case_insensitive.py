"""``CaseInsensitiveModelBackend``: log in as ``maria``, ``Maria`` or ``ＭＡＲＩＡ``, one account.

``CaselessLoginMixin`` is its login alone, for a host whose own ``ModelBackend`` subclass should
stay the one that loads the user of each request (``get_user``).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from authfold.accounts.caseless import (
    caseless_keys_ready,
    normalize_username,
    same_username,
    table_ready,
    username_digest,
    users_with_email,
    users_with_username,
)
from authfold.accounts.conf import authfold_setting, renamed_login_period
from authfold.accounts.email_verification import (
    confirmation_required_to_log_in,
    enumeration_prevented,
    with_confirmed_email,
)
from authfold.accounts.models import CaselessKey, LoginFailures, RenameRecord, UnconfirmedEmail
from authfold.accounts.postgres_index import username_index_ready
from authfold.accounts.postgres_login import login_function_ready, served_a_login_before
from authfold.accounts.throttling import (
    TYPED_EMAIL,
    TYPED_RENAMED,
    TYPED_USERNAME,
    AccountLoginThrottle,
    FailedLoginThrottle,
    retry_after,
)
from authfold.accounts.user_model import caseless_rule_applies
from authfold.backends.lookup_statement import (
    FAILED_LOGINS,
    LIMIT,
    converted_renamed_at,
    lookup_parameters,
    lookup_statement,
)

logger = logging.getLogger("authfold.login")

# More rows than this for one name means something is badly wrong; never load them all.
MAX_TWINS_CONSIDERED = LIMIT

# Set on the user that authenticate() returns when the login was a renamed account's old username:
# the login page reads it to tell the person their new name.
RENAMED_LOGIN_ATTRIBUTE = "authfold_renamed_login"

# Set on the request whose login by email was refused only because the address still waits for
# its confirmation link (the password was right): the login page and the API say so.
UNCONFIRMED_EMAIL_ATTRIBUTE = "authfold_unconfirmed_email_login"


def mark_not_renamed(user):
    """A user found by its current name: no old name, no rename date."""
    user.authfold_renamed_from = user.authfold_renamed_at = None
    return user


@dataclass(frozen=True)
class RenamedLogin:
    """A login through the old username conflict resolution took away, and until when it works."""

    old_username: str
    works_until: datetime


class CaselessLoginMixin:
    """The login of :class:`CaseInsensitiveModelBackend`, for a host backend of its own: put it
    before a ``ModelBackend`` subclass (``class ForumBackend(CaselessLoginMixin, ModelBackend)``)
    and that backend finds accounts by :mod:`authfold.accounts.caseless`'s definition, while its
    ``get_user``, ``user_can_authenticate`` and permission methods stay its own.

    On a database that still holds legacy twins (``maria`` and ``Maria``) an exact-case match
    wins; any other ambiguous login is refused like a wrong password and logged, never a 500.
    For a while after conflict resolution, an old username names two accounts, the one renamed
    away from it and the name's keeper: the password typed decides which one logs in.
    The user model is looked up on each call: under a user model the rule does not govern (a
    test's ``AUTH_USER_MODEL``, an email login), the login is the class's after the mixin.
    """

    # As Django's own (6.0+): if anything below raises (the database goes away mid-login), error
    # reports and the debug page show the password as stars.
    @sensitive_variables("password")
    def authenticate(self, request, username=None, password=None, **kwargs):
        user_model = get_user_model()
        if not caseless_rule_applies(user_model):
            return super().authenticate(request, username, password, **kwargs)
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        if isinstance(username, str):
            # Here, not in each form: the web page, the admin, the API and a host's own view all
            # send what was typed, and every door must find the same account.
            username = normalize_username(username)
            users = self.find_users(username)
        else:
            users = []
        if not users:
            unconfirmed = self.find_unconfirmed_email_owner(username)
            # Failed logins count per name typed, in any spelling (on the account's row when it
            # has one); a name without an account counts alike, so answers never tell them apart.
            throttle = self.failed_login_throttle(unconfirmed, username)
            if not throttle.allows_another_try():
                self.refuse_throttled_login(request, throttle)
            if unconfirmed is None:
                # Run the default password hasher once to reduce the timing difference between an
                # existing and a nonexistent (or refused ambiguous) user, as ModelBackend does
                # (#20760).
                user_model().set_password(password)
            elif unconfirmed.check_password(password) and self.user_can_authenticate(unconfirmed):
                # The right password: no failure to count, only an address to confirm first.
                self.refuse_unconfirmed_email_login(request)
                return None
            throttle.record_failure()
            return None
        throttles = {user.pk: self.failed_login_throttle(user, username) for user in users}
        open_to_try = [user for user in users if throttles[user.pk].allows_another_try()]
        if not open_to_try:
            self.refuse_throttled_login(request, throttles[users[0].pk])
        # The password decides between an old spelling's renamed account and the name's keeper:
        # a second hash only when the first account's password was not the one typed.
        for user in open_to_try:
            if user.check_password(password) and self.user_can_authenticate(user):
                return user
        # Only a login that opened nothing counts: the keeper typing her old spelling is no
        # attempt on the renamed account.
        for user in open_to_try:
            throttles[user.pk].record_failure()
        return None

    def failed_login_throttle(self, user, login):
        """The failure count of ``login`` as typed: the account's own row, read with the user
        where the login statement joined it (no second round trip), counting apart the ways in
        (username, email, old username); before that table's migration, and for a name without
        an account, the cache's, keyed by what was typed."""
        if user is None or not table_ready(LoginFailures, user._state.db):
            return FailedLoginThrottle(str(login))
        typed = self.typed_as(user, login)
        if hasattr(user, FAILED_LOGINS):
            return AccountLoginThrottle(user, getattr(user, FAILED_LOGINS), typed)
        return AccountLoginThrottle(user, typed=typed)

    def typed_as(self, user, login):
        """How ``login`` named ``user``: its old username, its username, or its email."""
        if getattr(user, "authfold_renamed_from", None) is not None:
            return TYPED_RENAMED
        if same_username(user.get_username(), login):
            return TYPED_USERNAME
        return TYPED_EMAIL

    def refuse_throttled_login(self, request, throttle):
        """Too many failed logins for this account: no password is checked, by this backend or
        any after it (``PermissionDenied``); the request is marked for the view's 429."""
        if request is not None:
            setattr(request, throttle.REFUSED_ATTRIBUTE, retry_after(throttle))
        raise PermissionDenied("Too many failed logins for this account.")

    def refuse_unconfirmed_email_login(self, request):
        """The right password for an address still waiting for its link: refused, and the request
        is marked so the login page or API can say what to do (``email_unconfirmed``)."""
        if request is not None:
            setattr(request, UNCONFIRMED_EMAIL_ATTRIBUTE, True)

    @sensitive_variables("password")
    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend's own async login exists from Django 5.0; on 4.2 the sync one runs below.
        if not caseless_rule_applies(get_user_model()) and hasattr(super(), "aauthenticate"):
            return await super().aauthenticate(request, username, password, **kwargs)

        # ModelBackend.aauthenticate (Django 5.0+) looks the name up exactly: never let it run on
        # the model the rule governs. The thread gets no arguments: asgiref holds them in a
        # functools.partial, whose repr would put the password into error reports.
        @sensitive_variables("password")
        def authenticate_in_thread():
            return self.authenticate(request, username=username, password=password, **kwargs)

        return await sync_to_async(authenticate_in_thread)()

    def find_user(self, login):
        """The account whose password a login as ``login`` tries first, or ``None``."""
        users = self.find_users(login)
        return users[0] if users else None

    def find_users(self, login):
        """The accounts ``login`` (a normalised username in any case, or an email) may log in
        to, at most two, in the order their passwords are tried: the account named exactly
        ``login``, the account renamed away from exactly ``login`` within the renamed-login
        period, the account holding ``login`` in another case. Empty when none.

        Reads go where the database routers send reads of the user model (``db_for_read``).
        """
        users = get_user_model()._default_manager.all()
        found = self.users_named(users, login)
        rows = list(
            {user.pk: user for user in found if user.authfold_renamed_from is None}.values()
        )
        # Decided here, not by the database: a case- or accent-insensitive MariaDB collation
        # widens `username=` (and `old_username=` in the rename log), and a stale key (a rename
        # through update()) names someone else.
        exact = [user for user in rows if user.username == login]
        matches = [user for user in rows if same_username(user.username, login)]
        keeper = exact[0] if exact else matches[0] if len(matches) == 1 else None
        if keeper is None and len(matches) > 1:
            self.refuse_ambiguous_login(login, matches)
        renamed = self.find_renamed_user(
            login, [user for user in found if user.authfold_renamed_from == login]
        )
        if renamed is not None and keeper is not None and renamed.pk == keeper.pk:
            renamed = None  # renamed back to a spelling of this name: it is simply the keeper
        if keeper is not None and keeper.username == login:
            return [user for user in (keeper, renamed) if user is not None]
        if renamed is not None or keeper is not None or matches:
            return [user for user in (renamed, keeper) if user is not None]
        if authfold_setting("AUTHFOLD_LOGIN_BY_EMAIL") and "@" in login:
            user = self.find_user_by_email(users, login)
            return [] if user is None else [user]
        return []

    def users_named(self, users, login):
        """In one statement (``backends/lookup_statement.py``): the users whose username is
        ``login`` by the rule, the one named exactly ``login``, and the accounts conflict
        resolution renamed away from exactly ``login`` within the last
        ``AUTHFOLD_RENAMED_LOGIN_DAYS`` (those with ``authfold_renamed_from`` and
        ``authfold_renamed_at`` set).

        The rename log is exact, byte for byte: the old spelling is what the person typed for
        years. Reverted renames do not count; a record whose account has been deleted finds
        nothing. The account may have been renamed again since: the record points at the
        person, whatever their name is now.
        """
        using = users.db
        if not caseless_keys_ready(using) or users.query.has_filters():
            # Before migrate (a rolling deploy), or a default manager that filters its users:
            # the ORM, by the database's own caseless comparison; no rename log yet.
            return [
                mark_not_renamed(user)
                for user in users_with_username(users, login).union(
                    users.filter(username=login), all=True
                )[:LIMIT]
            ]
        user_model = users.model
        indexed = username_index_ready(using, user_model)
        period = renamed_login_period()
        since = None if period is None else timezone.now() - period
        connection = connections[using]
        failures = LoginFailures if table_ready(LoginFailures, using) else None
        function = (
            indexed
            and failures is not None
            and login_function_ready(using, user_model)
            and served_a_login_before(connection)
        )
        statement = lookup_statement(
            using,
            user_model,
            CaselessKey,
            RenameRecord,
            indexed,
            since is not None,
            failures,
            function,
        )
        parameters = lookup_parameters(
            connection, login, username_digest(login), indexed, since, function
        )
        found = list(user_model._default_manager.db_manager(using).raw(statement, parameters))
        for user in found:
            if user.authfold_renamed_at is not None:
                user.authfold_renamed_at = converted_renamed_at(
                    connection, RenameRecord, user.authfold_renamed_at
                )
        return found

    def find_renamed_user(self, login, rows):
        """The one account ``rows`` (from :meth:`users_named`) names, marked for the login page
        with a :class:`RenamedLogin`, or ``None``. An account that may not log in (inactive)
        never stands in anyone's way; several that may, renamed from the same name, are none."""
        accounts = {user.pk: user for user in rows if self.user_can_authenticate(user)}
        if not accounts:
            return None
        if len(accounts) > 1:
            logger.warning(
                "Refused a login by the old username %r as any of the accounts %s: they were "
                "all renamed from it. Their new usernames still log in.",
                login,
                ", ".join(f"{user.pk} ({user.username!r})" for user in accounts.values()),
            )
            return None
        [user] = accounts.values()
        renamed_at = max(row.authfold_renamed_at for row in rows if row.pk == user.pk)
        setattr(
            user, RENAMED_LOGIN_ATTRIBUTE, RenamedLogin(login, renamed_at + renamed_login_period())
        )
        return user

    def refuse_ambiguous_login(self, login, twins):
        """Legacy twins and no exact-case owner: nobody logs in, and operators are told."""
        logger.warning(
            "Refused an ambiguous login for %r: accounts %s share that username caselessly. "
            "Run `manage.py conflict_audit` to resolve them.",
            login,
            ", ".join(f"{user.pk} ({user.username!r})" for user in twins),
        )

    def find_unconfirmed_email_owner(self, login):
        """The one account whose address ``login`` is and still waits for its confirmation link,
        when the answers may say so (email login on, verification mandatory, enumeration not
        prevented); else ``None``."""
        if not (
            isinstance(login, str)
            and "@" in login
            and authfold_setting("AUTHFOLD_LOGIN_BY_EMAIL")
            and confirmation_required_to_log_in()
            and not enumeration_prevented()
        ):
            return None
        users = get_user_model()._default_manager.all()
        if not table_ready(UnconfirmedEmail, users.db):
            return None
        matches = list(
            users_with_email(users.filter(unconfirmed_email__isnull=False), login)[
                :MAX_TWINS_CONSIDERED
            ]
        )
        return matches[0] if len(matches) == 1 else None

    def find_user_by_email(self, users, email):
        """The account whose email is ``email`` in any case; a shared email logs nobody in, nor,
        with mandatory verification, one still waiting for its confirmation link."""
        matches = list(users_with_email(with_confirmed_email(users), email)[:MAX_TWINS_CONSIDERED])
        if len(matches) == 1:
            return matches[0]
        if matches:
            logger.warning(
                "Refused a login by the email %r: accounts %s share it. "
                "Run `manage.py conflict_audit` to see the shared emails.",
                email,
                ", ".join(str(user.pk) for user in matches),
            )
        return None


class CaseInsensitiveModelBackend(CaselessLoginMixin, ModelBackend):
    """Django's ``ModelBackend``, finding the account by :mod:`authfold.accounts.caseless`'s
    definition (:class:`CaselessLoginMixin`); ``user_can_authenticate``, ``get_user`` and the
    permission methods are ``ModelBackend``'s."""
