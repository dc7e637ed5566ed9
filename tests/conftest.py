"""Shared pytest fixtures."""

import pytest

from authfold.accounts.caseless import forget_caseless_keys_state

# The host project has a suite of its own, run in its own process by test_host_adoption.py.
collect_ignore = ["host"]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Hash passwords with a fast hasher, as Django's own test suite does: PBKDF2's deliberate
    slowness was most of the suite's time. Tests about hashing set their own hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_caseless_keys_state():
    """Tests that migrate the accounts app backwards must not leave a stale "keys ready" answer."""
    forget_caseless_keys_state()
    yield
    forget_caseless_keys_state()


class AccountsMigrator:
    """Moves the accounts app's migrations back and forth, as ``manage.py migrate`` does."""

    def to(self, target):
        from django.core.management import call_command

        call_command("migrate", "authfold", target, verbosity=0)
        forget_caseless_keys_state()


@pytest.fixture
def accounts_migrator(transactional_db):
    """A migrator for tests that need the accounts app at an older migration; forward again after."""
    from django.core.management import call_command

    migrator = AccountsMigrator()
    yield migrator
    call_command("migrate", verbosity=0)
    forget_caseless_keys_state()
