"""``CaseInsensitiveModelBackend``: log in as ``maria``, ``Maria`` or ``ＭＡＲＩＡ``, one account."""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from accounts.caseless import users_with_email, users_with_username
from accounts.conf import authfold_setting

logger = logging.getLogger("authfold.login")
UserModel = get_user_model()

# More rows than this for one name means something is badly wrong; never load them all.
MAX_TWINS_CONSIDERED = 20


class CaseInsensitiveModelBackend(ModelBackend):
    """Django's ``ModelBackend``, finding the account by :mod:`accounts.caseless`'s definition.

    On a database that still holds legacy twins (``maria`` and ``Maria``) an exact-case match
    wins; any other ambiguous login is refused like a wrong password and logged, never a 500.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(UserModel.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = self.find_user(username)
        if user is None:
            # Run the default password hasher once to reduce the timing difference between an
            # existing and a nonexistent user (Django ticket #20760), as ModelBackend does.
            UserModel().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def find_user(self, login):
        """The one account ``login`` names (a username in any case, or an email), or ``None``."""
        users = UserModel._default_manager.all()
        matches = list(users_with_username(users, login)[:MAX_TWINS_CONSIDERED])
        if len(matches) == 1:
            return matches[0]
        if matches:
            return self.choose_among_twins(login, matches)
        # A user written around Model.save() (bulk_create, raw SQL) has no key yet; find it exactly.
        exact = users.filter(username=login).first()
        if exact is not None:
            return exact
        if authfold_setting("AUTHFOLD_LOGIN_BY_EMAIL") and "@" in login:
            return self.find_user_by_email(users, login)
        return None

    def choose_among_twins(self, login, twins):
        """Legacy twins: the exact-case owner logs in, anyone else is refused and logged."""
        exact = [user for user in twins if user.username == login]
        if len(exact) == 1:
            return exact[0]
        logger.warning(
            "Refused an ambiguous login for %r: accounts %s share that username caselessly. "
            "Run `manage.py conflict_audit` to resolve them.",
            login,
            ", ".join(f"{user.pk} ({user.username!r})" for user in twins),
        )
        return None

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
