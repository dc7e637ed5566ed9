"""django-authfold's own settings, each with its default; the README's "Settings" says what they do."""

from django.conf import settings

DEFAULTS = {
    # Let people log in with their email address, in any case, as well as with their username.
    "AUTHFOLD_LOGIN_BY_EMAIL": False,
}


def authfold_setting(name):
    """The project's value for one AUTHFOLD_* setting, or our default."""
    return getattr(settings, name, DEFAULTS[name])
