"""``authfold.E002``: on PostgreSQL with the username index, the key functions record the Unicode
version they were generated from, and functions of another version than the one the key is pinned
to are an error (the index and the process would disagree on who is a twin), as is a Python older
than the pinned version. A newer Python is not: the key keeps to the pinned version. Elsewhere,
and where the versions agree, nothing."""

import unicodedata

import pytest
from django.core import checks
from django.db import connection

from authfold.accounts import unicode_pinned
from authfold.data_migrations.postgres_keys import installed_unicode_version

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the key functions are PostgreSQL's"
)


def unicode_errors():
    messages = checks.run_checks(databases=["default"], tags=[checks.Tags.database])
    return [message for message in messages if message.id == "authfold.E002"]


def record_version(version):
    with connection.cursor() as cursor:
        cursor.execute(
            "COMMENT ON FUNCTION authfold_username_digest(text) IS %s",
            [f"Generated from Unicode {version}"],
        )


@on_postgres
def test_the_installed_functions_record_the_unicode_version_they_were_generated_from():
    assert installed_unicode_version(connection) == unicode_pinned.UNICODE_VERSION


@on_postgres
def test_functions_of_another_unicode_version_than_the_pinned_one_are_an_error():
    record_version("13.0.0")
    [error] = unicode_errors()
    assert error.level == checks.ERROR
    assert "Unicode 13.0.0" in error.msg and unicode_pinned.UNICODE_VERSION in error.msg
    assert "scripts/generate-postgres-username-key" in error.hint


@on_postgres
def test_a_python_older_than_the_pinned_version_is_an_error(monkeypatch):
    monkeypatch.setattr(unicodedata, "unidata_version", "13.0.0")
    [error] = unicode_errors()
    assert "this Python has Unicode 13.0.0" in error.msg


@on_postgres
def test_a_python_newer_than_the_pinned_version_passes(monkeypatch):
    """Python 3.12 (Unicode 15.0) and 3.13 (15.1) on a database migrated from any of them."""
    monkeypatch.setattr(unicodedata, "unidata_version", "15.1.0")
    assert unicode_errors() == []


@on_postgres
def test_functions_recorded_before_the_comment_existed_count_as_the_committed_file_s():
    with connection.cursor() as cursor:
        cursor.execute("COMMENT ON FUNCTION authfold_username_digest(text) IS NULL")
    assert unicode_errors() == []


def test_functions_of_python_s_own_unicode_version_pass():
    assert unicode_errors() == []


def test_the_check_runs_only_when_asked_about_a_database():
    messages = checks.run_checks()
    assert not [message for message in messages if message.id == "authfold.E002"]
