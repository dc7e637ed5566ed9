"""A pytest plugin that adopts django-authfold into Django REST framework's own test settings.

DRF's ``tests/conftest.py`` has no settings module: its ``pytest_configure`` calls
``settings.configure(...)`` and then ``django.setup()``. This plugin (``-p authfold_drf_plugin``)
runs its own ``pytest_configure`` first and wraps ``configure`` for the session, so whatever DRF
passes gets our app added to ``INSTALLED_APPS`` and our backend put where ``ModelBackend`` is,
as ``docs/ADOPTING.md`` asks of a host. ``AUTHFOLD_PEERS_ADOPT=0`` leaves that out (the
baseline). Either way, test databases on a server get names of their own, and each test's outcome
is written to ``AUTHFOLD_PEERS_REPORT``.
"""

import json
import os

import pytest
from django.conf import LazySettings, global_settings

ADOPT = os.environ.get("AUTHFOLD_PEERS_ADOPT", "1") != "0"
OUR_APP = "authfold.accounts"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
OUR_BACKEND = "authfold.backends.CaseInsensitiveModelBackend"

original_configure = LazySettings.configure
outcomes = {}


def adopted(options):
    """DRF's settings with our app installed and our backend in ``ModelBackend``'s place."""
    apps = list(options.get("INSTALLED_APPS", ()))
    if OUR_APP not in apps:
        # Above django.contrib.auth, as docs/ADOPTING.md asks (our management commands win).
        apps.insert(apps.index("django.contrib.auth"), OUR_APP)
    backends = options.get("AUTHENTICATION_BACKENDS", global_settings.AUTHENTICATION_BACKENDS)
    return {
        **options,
        # A tuple, as DRF's own: its conftest adds to it with += (...).
        "INSTALLED_APPS": tuple(apps),
        "AUTHENTICATION_BACKENDS": [
            OUR_BACKEND if backend == MODEL_BACKEND else backend for backend in backends
        ],
    }


def own_test_databases(options):
    """DRF's settings with test databases named ``test_<name>_drf`` on a server.

    DRF reads both of its aliases from ``DATABASE_URL`` and would test in ``test_<name>``, which
    is the project's own test database; one name for both keeps them one database, as in DRF.
    """
    databases = {}
    for alias, config in options.get("DATABASES", {}).items():
        if not config["ENGINE"].endswith("sqlite3"):
            config = {
                **config,
                "TEST": {**config.get("TEST", {}), "NAME": f"test_{config['NAME']}_drf"},
            }
        databases[alias] = config
    return {**options, "DATABASES": databases}


def configure_for_peers(self, default_settings=global_settings, **options):
    options = own_test_databases(options)
    if ADOPT:
        options = adopted(options)
    return original_configure(self, default_settings, **options)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    LazySettings.configure = configure_for_peers


def pytest_unconfigure(config):
    LazySettings.configure = original_configure


def pytest_runtest_setup(item):
    """Each test starts with an empty default cache: our backend counts failed logins per account
    there, and DRF's suite never clears it (as the recorder does for Django's suite)."""
    from django.core.cache import cache

    cache.clear()


def pytest_runtest_logreport(report):
    """Record one outcome per test: a failing setup or teardown is an ``error``."""
    if report.when == "call":
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfail" if report.skipped else "xpass"
    elif report.failed:
        outcome = "error"
    elif report.skipped and report.when == "setup":
        outcome = "skipped"
    else:
        return
    if outcomes.get(report.nodeid) != "error":
        outcomes[report.nodeid] = outcome


def pytest_collectreport(report):
    """A test module that cannot even be collected is an ``error`` under its own id."""
    if report.failed:
        outcomes[report.nodeid] = "error"


def pytest_sessionfinish(session):
    """Write the outcomes, and whether our app and backend were in place (as the recorder does)."""
    from django.apps import apps
    from django.conf import settings
    from django.db import connection

    path = os.environ.get("AUTHFOLD_PEERS_REPORT")
    if path:
        report = {
            "authfold_installed": apps.is_installed(OUR_APP),
            "authentication_backends": list(settings.AUTHENTICATION_BACKENDS),
            "database": connection.vendor,
            "outcomes": outcomes,
        }
        with open(path, "w") as file:
            json.dump(report, file, indent=1, sort_keys=True)
