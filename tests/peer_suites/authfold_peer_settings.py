"""Settings for Django's own test suite (``tests/runtests.py``) with django-authfold adopted.

``scripts/peer-suites`` runs ``runtests.py --settings=authfold_peer_settings auth_tests`` with
this folder on ``PYTHONPATH``. Adopted means what ``docs/ADOPTING.md`` asks of a host: our app in
``INSTALLED_APPS`` and our backend where ``ModelBackend`` was. ``AUTHFOLD_PEERS_ADOPT=0`` is the
baseline: the same databases and runner, Django's ``ModelBackend`` and no app of ours.

Everything else copies Django's own ``tests/test_sqlite.py``, so a difference between the two runs
is ours.
"""

import os
import sys

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

ADOPT = os.environ.get("AUTHFOLD_PEERS_ADOPT", "1") != "0"
OUR_APP = "authfold.accounts"


def install_our_apps_into_runtests():
    """Add our app to the list runtests.py installs, since it overwrites ``INSTALLED_APPS``.

    runtests.py (4.2 to 6.1 alike) sets ``settings.INSTALLED_APPS = ALWAYS_INSTALLED_APPS`` (that
    very list, then appends the test apps to it) in ``setup_collect_tests``, right after its first
    read of a setting, which is what imports this module. So changing that list here changes what
    it installs, without editing Django's file. In a worker process started by ``spawn``,
    ``__main__`` is runtests.py again, and it reads its settings the same way.
    """
    runtests = sys.modules["__main__"]
    always_installed = getattr(runtests, "ALWAYS_INSTALLED_APPS", None)
    if always_installed is None:
        raise ImproperlyConfigured(
            "authfold_peer_settings is for Django's tests/runtests.py; run scripts/peer-suites."
        )
    if OUR_APP not in always_installed:
        # Above django.contrib.auth, as docs/ADOPTING.md asks (our management commands win).
        always_installed.insert(always_installed.index("django.contrib.auth"), OUR_APP)


def peer_databases():
    """``default`` and ``other`` (runtests needs both): in-memory SQLite, or ``DATABASE_URL``.

    On a server, the test databases are named after the URL's database with a ``_peers`` suffix,
    so they never meet the project's own test database (``test_<name>``) or another helper's.
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        # As tests/test_sqlite.py: two in-memory databases, which parallel workers can clone.
        return {alias: {"ENGINE": "django.db.backends.sqlite3"} for alias in ("default", "other")}
    databases = {}
    for alias, suffix in (("default", "peers"), ("other", "peers_other")):
        config = dj_database_url.parse(url)
        config["TEST"] = {"NAME": f"test_{config['NAME']}_{suffix}"}
        if config["ENGINE"].endswith("mysql"):
            config["OPTIONS"] = {"charset": "utf8mb4"}
            config["TEST"].update({"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"})
        databases[alias] = config
    return databases


if ADOPT:
    install_our_apps_into_runtests()
    AUTHENTICATION_BACKENDS = ["authfold.backends.CaseInsensitiveModelBackend"]

DATABASES = peer_databases()

# The rest is tests/test_sqlite.py's.
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False

# Writes each test's outcome where scripts/peer-suites reads it (AUTHFOLD_PEERS_REPORT).
TEST_RUNNER = "authfold_peer_recorder.RecordingRunner"
