"""django-authfold's own settings, each with its default; docs/SETTINGS.md says what they do."""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

DEFAULTS = {
    # Let anyone create an account on our sign-up page and through POST /api/users/; False closes
    # both (403) for projects where only staff create accounts.
    "AUTHFOLD_SIGNUP_OPEN": True,
    # Let people log in with their email address, in any case, as well as with their username.
    "AUTHFOLD_LOGIN_BY_EMAIL": False,
    # Allow ASCII letters only in new usernames (Django's ASCIIUsernameValidator); else Unicode.
    "AUTHFOLD_ASCII_USERNAMES": False,
    # True for the built-in list (authfold.accounts.reserved_names), or a list of names; off by default.
    "AUTHFOLD_RESERVED_USERNAMES": False,
    # Refuse a new or changed username that looks like another account's (the same UTS #39
    # skeleton: maría, marıa or mɑria beside maria), code username_lookalike; off by default.
    "AUTHFOLD_REFUSE_LOOKALIKES": False,
    # Let the password-reset form reach active accounts without a usable password (social sign-up,
    # create_user without one), so they can set a first password; off, as in Django, by default.
    "AUTHFOLD_FIRST_PASSWORD_BY_RESET": False,
    # Who keeps a name shared by twins, and what the others become (dotted path to a class).
    "AUTHFOLD_RESOLUTION_POLICY": "authfold.data_migrations.planning.ActiveThenRecentLoginPolicy",
    # Between a renamed twin's old name and its number: "maria" becomes "maria_1".
    "AUTHFOLD_RENAME_SEPARATOR": "_",
    # For this many days after conflict resolution renamed an account, its exact old username
    # (with the account's own password) still logs in to it; 0 or None turns that off.
    "AUTHFOLD_RENAMED_LOGIN_DAYS": 90,
    # Wrap the user model's validate_unique() so the host's own ModelForms on User (and
    # full_clean()) refuse caseless twins and missing or shared emails (accounts/user_validation.py).
    "AUTHFOLD_VALIDATE_USER_MODEL": True,
    # Keep the admin's User registration under the rule: Django's stock UserAdmin becomes ours, a
    # host's own UserAdmin gets CaselessUserAdminMixin mixed in (accounts/user_admin.py).
    "AUTHFOLD_ADMIN": True,
    # The alias in CACHES our throttles count in: "default" is the host's; the runbook adds an
    # alias of ours ("authfold") beside the host's caches.
    "AUTHFOLD_CACHE": "default",
    # The site's own address for mail ("https://accounts.example.org"): every mail of ours builds
    # its links on it and names its host (accounts/mail_site.py), never the request's Host
    # header. None: django.contrib.sites' current site when it is installed, else the Host
    # header, as Django does; check authfold.W006 warns about that when DEBUG is off.
    "AUTHFOLD_SITE_URL": None,
    # Whether an address must be confirmed by a link mailed to it: "none" (a changed address
    # applies at once), "optional" (a changed address waits for its link; a sign-up's counts at
    # once) or "mandatory" (a sign-up's address logs in and resets passwords only once confirmed).
    "AUTHFOLD_EMAIL_VERIFICATION": "none",
    # How long a confirmation link works, and how long an unconfirmed sign-up address is held
    # before `manage.py release_unconfirmed_emails` frees it.
    "AUTHFOLD_EMAIL_CONFIRMATION_DAYS": 3,
    # Answer sign-up, profile and login alike whether or not an address or name is taken, and
    # tell the holder's mailbox instead; None: on when AUTHFOLD_EMAIL_VERIFICATION is "mandatory".
    "AUTHFOLD_PREVENT_ENUMERATION": None,
    # Whom the notice of an email change tells the old address to contact when the change was
    # not theirs; None for DEFAULT_FROM_EMAIL.
    "AUTHFOLD_SUPPORT_CONTACT": None,
}


def authfold_setting(name):
    """The project's value for one AUTHFOLD_* setting, or our default."""
    return getattr(settings, name, DEFAULTS[name])


# What a closed sign-up page and API answer.
SIGNUP_CLOSED = _("Sign-up is closed here: ask an administrator for an account.")


def renamed_login_period():
    """How long a renamed account's old username keeps logging in, or ``None`` when never."""
    days = authfold_setting("AUTHFOLD_RENAMED_LOGIN_DAYS")
    return timedelta(days=days) if days else None


def site_url():
    """``AUTHFOLD_SITE_URL`` split (its ``scheme`` and ``netloc``), or ``None`` when unset."""
    url = authfold_setting("AUTHFOLD_SITE_URL")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(
            f"AUTHFOLD_SITE_URL must be an http(s) URL such as 'https://example.org', not {url!r}."
        )
    return parts
