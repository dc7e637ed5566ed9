"""Shared pytest fixtures."""

import pytest
from django.core.cache import cache

from authfold.accounts.caseless import forget_caseless_keys_state

# The host project has a suite of its own, run in its own process by test_host_adoption.py.
collect_ignore = ["host"]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Hash passwords with a fast hasher, as Django's own test suite does: PBKDF2's deliberate
    slowness was most of the suite's time. Tests about hashing set their own hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def email_verification_off(settings):
    """The library's default, no email verification, whatever the demo host turns on: the suite's
    tests of the rule change addresses at once; tests of verification ask for their mode."""
    settings.AUTHFOLD_EMAIL_VERIFICATION = "none"


@pytest.fixture(autouse=True)
def fresh_caseless_keys_state():
    """Tests that migrate the accounts app backwards must not leave a stale "keys ready" answer."""
    forget_caseless_keys_state()
    yield
    forget_caseless_keys_state()


@pytest.fixture(autouse=True)
def no_throttle_counts(request):
    """Every test that uses the database starts and ends with nothing counted by the throttles.

    They count in the database cache (mysite/settings.py): a test in a transaction takes its
    counts back with it, but ``transactional_db`` flushes only the models' tables. Tests without
    the database never reach a throttle, and may not touch that table.
    """
    database_fixtures = {"db", "transactional_db"} & set(request.fixturenames)
    if not database_fixtures and request.node.get_closest_marker("django_db") is None:
        yield
        return
    for name in database_fixtures:
        request.getfixturevalue(name)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def throttles_counting_in_memory(settings):
    """The local-memory cache for tests that count a login's SQL statements: with the database
    cache, the throttles' own reads and writes are statements too."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


class AccountsMigrator:
    """Moves the accounts app's migrations back and forth, as ``manage.py migrate`` does."""

    def to(self, target):
        from django.core.management import call_command

        # "latest": every migration of the app, whatever the newest is called.
        targets = ["authfold"] if target == "latest" else ["authfold", target]
        call_command("migrate", *targets, verbosity=0)
        forget_caseless_keys_state()


@pytest.fixture
def accounts_migrator(transactional_db):
    """A migrator for tests that need the accounts app at an older migration; forward again after."""
    from django.core.management import call_command

    migrator = AccountsMigrator()
    yield migrator
    call_command("migrate", verbosity=0)
    forget_caseless_keys_state()


@pytest.fixture
def swap_user_model():
    """Installs ``tests.swapped_users`` and makes one of its models ``AUTH_USER_MODEL`` (as Django's
    auth_tests do with ``override_settings``); put back before the database is flushed."""
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    swaps = []

    def swap(name):
        from django.conf import settings

        swapped = override_settings(
            INSTALLED_APPS=[*settings.INSTALLED_APPS, "tests.swapped_users"],
            AUTH_USER_MODEL=f"swapped_users.{name}",
        )
        swapped.enable()
        swaps.append(swapped)
        return get_user_model()

    yield swap
    for swapped in reversed(swaps):
        swapped.disable()


@pytest.fixture
def swapped_user_table(transactional_db, swap_user_model):
    """Swaps in a user model and creates its table for the test (dropped again after)."""
    from django.db import connection

    created = []

    def create(name):
        user_model = swap_user_model(name)
        with connection.schema_editor() as editor:
            editor.create_model(user_model)
        created.append(user_model)
        return user_model

    yield create
    for user_model in created:
        with connection.schema_editor() as editor:
            editor.delete_model(user_model)


@pytest.fixture(autouse=True)
def postgres_username_index_restored(request):
    """A test that dropped PostgreSQL's expression index for legacy twins
    (``tests.twins.allow_legacy_twins``) and did not roll back (a transactional test) leaves the
    next test without it: put it back first, once the data is flushed."""
    from django.db import connection

    if connection.vendor != "postgresql" or not request.node.get_closest_marker("django_db"):
        return
    from django.contrib.auth import get_user_model

    from authfold.accounts.postgres_index import index_state
    from authfold.data_migrations.postgres_keys import build_username_index

    user_model = get_user_model()
    with request.getfixturevalue("django_db_blocker").unblock():
        if index_state(connection, user_model._meta.db_table) == "valid" or not applied_0008():
            return
        with connection.schema_editor(atomic=False) as editor:
            build_username_index(editor, user_model)


def applied_0008():
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    return ("authfold", "0008_postgres_username_key_index") in recorder.applied_migrations()
