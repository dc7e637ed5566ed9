"""``CaseInsensitiveModelBackend``: log in as ``maria``, ``Maria`` or ``ＭＡＲＩＡ``, one account."""

import logging

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from authfold.accounts.caseless import same_username, users_with_email, users_with_username
from authfold.accounts.conf import authfold_setting
from authfold.accounts.user_model import caseless_rule_applies

logger = logging.getLogger("authfold.login")

# More rows than this for one name means something is badly wrong; never load them all.
MAX_TWINS_CONSIDERED = 20


class CaseInsensitiveModelBackend(ModelBackend):
    """Django's ``ModelBackend``, finding the account by :mod:`authfold.accounts.caseless`'s definition.

    On a database that still holds legacy twins (``maria`` and ``Maria``) an exact-case match
    wins; any other ambiguous login is refused like a wrong password and logged, never a 500.
    ``user_can_authenticate``, ``get_user`` and the permission methods are ``ModelBackend``'s.
    The user model is looked up on each call: under a user model the rule does not govern (a
    test's ``AUTH_USER_MODEL``, an email login), it is exactly ``ModelBackend``.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        user_model = get_user_model()
        if not caseless_rule_applies(user_model):
            return super().authenticate(request, username, password, **kwargs)
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = self.find_user(username) if isinstance(username, str) else None
        if user is None:
            # Run the default password hasher once to reduce the timing difference between an
            # existing and a nonexistent (or refused ambiguous) user, as ModelBackend does (#20760).
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend.aauthenticate (Django 5.0+) looks the name up exactly: never let it run.
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )

    def find_user(self, login):
        """The one account ``login`` names (a username in any case, or an email), or ``None``.

        Reads go where the database routers send reads of the user model (``db_for_read``).
        """
        users = get_user_model()._default_manager.all()
        # One statement, two index lookups: the caseless key, and the exact name, which finds a
        # user written around Model.save() (bulk_create, raw SQL) that has no key yet and lets an
        # exact-case owner win over legacy twins.
        # UNION ALL: no sort to remove the duplicate a user matching both ways makes; done here.
        both = users_with_username(users, login).union(users.filter(username=login), all=True)
        rows = list({user.pk: user for user in both[:MAX_TWINS_CONSIDERED]}.values())
        # Decided here, not by the database: a case- or accent-insensitive MariaDB collation
        # widens `username=`, and a stale key (a rename through update()) names someone else.
        exact = [user for user in rows if user.username == login]
        matches = [user for user in rows if same_username(user.username, login)]
        if exact:
            return exact[0]
        if len(matches) == 1:
            return matches[0]
        if matches:
            self.refuse_ambiguous_login(login, matches)
            return None
        if authfold_setting("AUTHFOLD_LOGIN_BY_EMAIL") and "@" in login:
            return self.find_user_by_email(users, login)
        return None

    def refuse_ambiguous_login(self, login, twins):
        """Legacy twins and no exact-case owner: nobody logs in, and operators are told."""
        logger.warning(
            "Refused an ambiguous login for %r: accounts %s share that username caselessly. "
            "Run `manage.py conflict_audit` to resolve them.",
            login,
            ", ".join(f"{user.pk} ({user.username!r})" for user in twins),
        )

    def find_user_by_email(self, users, email):
        """The account whose email is ``email`` in any case; a shared email logs nobody in."""
        matches = list(users_with_email(users, email)[:MAX_TWINS_CONSIDERED])
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
