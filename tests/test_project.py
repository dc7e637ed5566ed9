"""The host project is healthy on this database: checks pass and no migration is missing."""

import os

import pytest
from django.core.management import call_command
from django.db import connection


def test_system_checks_pass():
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_no_migration_is_missing():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_suite_runs_on_the_database_it_was_asked_for():
    """scripts/test names the vendor it meant to test, so a wrong DATABASE_URL cannot pass."""
    assert connection.vendor == os.environ.get("AUTHFOLD_EXPECT_VENDOR", "sqlite")
