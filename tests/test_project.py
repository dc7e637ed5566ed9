"""The host project is healthy on this database: checks pass and no migration is missing."""

import importlib
import os

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings


def test_system_checks_pass(settings):
    settings.DEBUG = True  # the demo's own setting (pytest-django turns it off)
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_no_migration_is_missing():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_our_migrations_load_when_the_host_turns_auth_migrations_off():
    """Django's own test runner (and some hosts' test settings) set ``{"auth": None}``."""
    resolve = importlib.import_module(
        "authfold.accounts.migrations.0002_resolve_username_conflicts"
    )
    try:
        # The suite's own test app of User subclasses depends on auth's migrations: off with them.
        off = {"auth": None, "user_subclasses": None}
        with override_settings(MIGRATION_MODULES=off):
            importlib.reload(resolve)
            graph = MigrationLoader(None, ignore_no_migrations=True).graph
        assert ("authfold", "0004_enforce_caseless_emails") in graph.nodes
    finally:
        importlib.reload(resolve)


def test_the_suite_runs_on_the_database_it_was_asked_for():
    """scripts/test names the vendor it meant to test, so a wrong DATABASE_URL cannot pass."""
    assert connection.vendor == os.environ.get("AUTHFOLD_EXPECT_VENDOR", "sqlite")
