"""The host's own backend: log in with the email address instead of the username."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Logs in the one active account whose email is the login typed, in any case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password or "@" not in username:
            return None
        users = get_user_model()._default_manager.filter(email__iexact=username)
        matches = list(users[:2])
        if len(matches) != 1:
            return None
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
