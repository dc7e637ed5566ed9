"""System checks: the project's settings must let the caseless rule hold.

- ``authfold.E001``: ``AUTH_USER_MODEL`` does not log in by a ``username`` text field (an
  email-as-username model, say). The rule folds usernames; there is nothing to fold.
- ``authfold.W001``: a backend that logs in with ``ModelBackend``'s own lookup of the exact name
  (``ModelBackend`` itself, ``AllowAllUsersModelBackend``) is listed beside ours: Django tries it
  after ours, so every login ours refused is retried by a rule that is not ours.
- ``authfold.W004``: ``AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT`` is set: it no longer does anything.
- ``authfold.E002`` (a database check: ``migrate``, ``check --database``): on PostgreSQL with the
  username index, the key functions were generated from another Unicode version than this
  Python's, so SQL and Python disagree on the key of some names (a twin the index lets through).
- ``authfold.W005``: a backend of the host's that subclasses ``ModelBackend`` (with a lookup of
  its own) is listed before ours: Django asks it first, so it finds users its own way and every
  login pays for its password hash too.
- ``authfold.W006``: ``DEBUG`` is off and ``AUTHFOLD_SITE_URL`` is not set (nor
  ``django.contrib.sites`` with a ``SITE_ID``): the links and subjects of our mails take the
  site from the request's ``Host`` header, which a client writes.
- ``authfold.W007``: no listed backend logs in by the caseless rule (neither ours nor a host's
  backend with ``CaselessLoginMixin``): every username is exact-case again, and renamed accounts'
  old usernames log in nowhere.
"""

import inspect
import unicodedata

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core import checks
from django.db import connections
from django.utils.module_loading import import_string

from authfold.accounts.conf import authfold_setting
from authfold.accounts.user_model import logs_in_by_username

APP_LABEL = "authfold"


def checks_our_app(app_configs):
    """Django runs a check for every app unless ``app_configs`` names some: then only for ours."""
    return app_configs is None or apps.get_app_config(APP_LABEL) in app_configs


@checks.register(checks.Tags.compatibility)
def check_user_model_has_username(app_configs=None, **kwargs):
    """``authfold.E001``: the user model must log in by a ``username`` CharField."""
    if not checks_our_app(app_configs):
        return []
    user_model = get_user_model()
    if logs_in_by_username(user_model):
        return []
    return [
        checks.Error(
            f"django-authfold supports user models that log in by a `username` CharField "
            f"(django.contrib.auth's User or an AbstractUser subclass); AUTH_USER_MODEL "
            f"{settings.AUTH_USER_MODEL!r} logs in by "
            f"{getattr(user_model, 'USERNAME_FIELD', None)!r}.",
            hint="Remove 'authfold.accounts' from INSTALLED_APPS and its backend from "
            "AUTHENTICATION_BACKENDS, or use a user model with a `username` field.",
            obj=user_model,
            id="authfold.E001",
        )
    ]


def exact_case_backends():
    """The listed backends that log in with ``ModelBackend``'s own, exact-case ``authenticate``."""
    found = []
    for path in settings.AUTHENTICATION_BACKENDS:
        try:
            backend = import_string(path)
        except ImportError:
            continue  # Django reports a backend it cannot import when it first authenticates.
        if isinstance(backend, type) and getattr(backend, "authenticate", None) is (
            ModelBackend.authenticate
        ):
            found.append(path)
    return found


def lists_caseless_backend():
    """Whether ``AUTHENTICATION_BACKENDS`` lists a backend with our login: ours, a subclass of
    it, or a host's backend with ``CaselessLoginMixin``."""
    from authfold.backends import CaselessLoginMixin

    for path in settings.AUTHENTICATION_BACKENDS:
        try:
            backend = import_string(path)
        except ImportError:
            continue
        if isinstance(backend, type) and issubclass(backend, CaselessLoginMixin):
            return True
    return False


@checks.register(checks.Tags.security)
def check_a_backend_logs_in_caselessly(app_configs=None, **kwargs):
    """``authfold.W007``: some listed backend logs in by the caseless rule."""
    if (
        not checks_our_app(app_configs)
        or not logs_in_by_username(get_user_model())  # authfold.E001's
        or lists_caseless_backend()
    ):
        return []
    return [
        checks.Warning(
            "No backend in AUTHENTICATION_BACKENDS logs in by the caseless rule: a username "
            "logs in only in the case it is stored in, and an account conflict resolution "
            "renamed no longer logs in by its old username.",
            hint="Put 'authfold.backends.CaseInsensitiveModelBackend' where ModelBackend was, "
            "or, for a ModelBackend subclass of your own, put "
            "authfold.backends.CaselessLoginMixin before its base classes "
            "(docs/ADOPTING.md, step 3).",
            id="authfold.W007",
        )
    ]


@checks.register(checks.Tags.security)
def check_no_exact_case_backend(app_configs=None, **kwargs):
    """``authfold.W001``: ``ModelBackend`` is replaced by ours, not kept beside it."""
    if not checks_our_app(app_configs) or not lists_caseless_backend():
        return []
    return [
        checks.Warning(
            f"AUTHENTICATION_BACKENDS lists {path!r} beside "
            f"'authfold.backends.CaseInsensitiveModelBackend': it retries every login ours "
            f"refuses with its own lookup of the exact username, around the caseless rule.",
            hint=f"Replace {path!r} with 'authfold.backends.CaseInsensitiveModelBackend', in "
            f"its place: ours does everything ModelBackend does (get_user, permissions).",
            id="authfold.W001",
        )
        for path in exact_case_backends()
    ]


# Backends that subclass ModelBackend but never log anyone in: they only refuse (django-axes'
# lockout check, which its documentation lists first). Named by path, so no import is needed.
GUARD_BACKENDS = {"axes.backends.AxesStandaloneBackend"}


def takes_username_and_password(backend):
    """Whether Django passes a username-and-password login to ``backend`` (it skips a backend
    whose ``authenticate`` does not accept the credentials, as ``RemoteUserBackend``'s)."""
    try:
        inspect.signature(backend.authenticate).bind(None, None, username="", password="")
    except TypeError:
        return False
    return True


def model_backends_before_ours():
    """The listed ``ModelBackend`` subclasses with a login of their own, above ours."""
    from authfold.backends import CaselessLoginMixin

    found = []
    for path in settings.AUTHENTICATION_BACKENDS:
        try:
            backend = import_string(path)
        except ImportError:
            continue
        if not isinstance(backend, type):
            continue
        if issubclass(backend, CaselessLoginMixin):
            return found
        guards = {f"{base.__module__}.{base.__qualname__}" for base in backend.__mro__}
        if (
            issubclass(backend, ModelBackend)
            and backend.authenticate is not ModelBackend.authenticate  # authfold.W001's
            and not guards & GUARD_BACKENDS
            and takes_username_and_password(backend)
        ):
            found.append(path)
    return []  # ours is not listed


@checks.register(checks.Tags.security)
def check_no_model_backend_before_ours(app_configs=None, **kwargs):
    """``authfold.W005``: a host's ``ModelBackend`` subclass is listed after ours, not before."""
    if not checks_our_app(app_configs):
        return []
    return [
        checks.Warning(
            f"AUTHENTICATION_BACKENDS lists {path!r}, a ModelBackend subclass, before "
            f"'authfold.backends.CaseInsensitiveModelBackend': Django asks it first, so a login "
            f"it answers never meets the caseless rule (ModelBackend's own lookup is exact-case), "
            f"and one it does not answer pays for its password hash as well as ours.",
            hint=f"List {path!r} after 'authfold.backends.CaseInsensitiveModelBackend', or "
            f"put authfold.backends.CaselessLoginMixin before its base classes so that it "
            f"finds accounts by the caseless rule.",
            obj=path,
            id="authfold.W005",
        )
        for path in model_backends_before_ours()
    ]


@checks.register(checks.Tags.compatibility)
def check_obsolete_email_setting(app_configs=None, **kwargs):
    """``authfold.W004``: ``AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT`` is obsolete (either value)."""
    if not checks_our_app(app_configs) or not hasattr(settings, "AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT"):
        return []
    return [
        checks.Warning(
            "AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT no longer does anything: since migration 0007 the "
            "database refuses a second account with the same email, in any case, for every "
            "project; addresses that accounts already shared are kept (grandfathered).",
            hint="Remove the setting. `python manage.py conflict_audit` lists the grandfathered "
            "addresses (docs/ADOPTING.md, 'Emails').",
            id="authfold.W004",
        )
    ]


@checks.register(checks.Tags.security)
def check_mail_site_configured(app_configs=None, **kwargs):
    """``authfold.W006``: in production, our mails name the configured site, not the Host header."""
    if not checks_our_app(app_configs) or settings.DEBUG:
        return []
    if authfold_setting("AUTHFOLD_SITE_URL"):
        return []
    if apps.is_installed("django.contrib.sites") and getattr(settings, "SITE_ID", None):
        return []  # the current site is the configured row, whatever the Host header says
    return [
        checks.Warning(
            "AUTHFOLD_SITE_URL is not set: the links and subjects of the mails django-authfold "
            "sends (password reset, email confirmation, the notice to an old address) take the "
            "site from the request's Host header. ALLOWED_HOSTS checks its name but not its "
            "port, so a client can have a reset or confirmation link point at a port it listens "
            "on.",
            hint="Set AUTHFOLD_SITE_URL to the site's own address, such as "
            "'https://accounts.example.org' (docs/SETTINGS.md).",
            id="authfold.W006",
        )
    ]


@checks.register(checks.Tags.database)
def check_postgres_key_unicode_version(app_configs=None, databases=None, **kwargs):
    """``authfold.E002``: PostgreSQL's key functions hold the Unicode version the key is pinned
    to (``accounts/unicode_pinned.py``), and this Python knows that version."""
    if not checks_our_app(app_configs) or not databases:
        return []
    from authfold.accounts import unicode_pinned
    from authfold.accounts.postgres_index import index_state
    from authfold.data_migrations.postgres_keys import installed_unicode_version

    pinned = unicode_pinned.UNICODE_VERSION
    table = get_user_model()._meta.db_table
    errors = []
    for alias in databases:
        connection = connections[alias]
        if connection.vendor != "postgresql" or index_state(connection, table) != "valid":
            continue
        installed = installed_unicode_version(connection)
        if installed is None:
            continue
        if installed != pinned:
            problem = (
                f"the username key functions were generated from Unicode {installed}, and "
                f"this authfold keys usernames by Unicode {pinned}"
            )
        elif version_tuple(unicodedata.unidata_version) < version_tuple(pinned):
            problem = (
                f"this Python has Unicode {unicodedata.unidata_version}, older than the Unicode "
                f"{pinned} the username key is pinned to"
            )
        else:
            continue
        errors.append(
            checks.Error(
                f"Database {alias!r}: {problem}: they fold some names differently, so the "
                f"username index and this process disagree on who is a twin.",
                hint="Run a Python of that Unicode version or newer, with the authfold release "
                "the database was migrated with; a release that moves the pin "
                "(scripts/generate-postgres-username-key) adds a migration that reinstalls the "
                "functions and rebuilds the index (docs/ADOPTING.md).",
                id="authfold.E002",
            )
        )
    return errors


def version_tuple(version):
    return tuple(int(part) for part in version.split("."))
