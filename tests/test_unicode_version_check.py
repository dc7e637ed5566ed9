"""``authfold.E002``: on PostgreSQL with the username index, the key functions record the Unicode
version they were generated from, and a Python of another Unicode version is an error (the index
and the process would disagree on who is a twin: the code points a newer Unicode added case
mappings for). Elsewhere, and where the versions agree, nothing."""

import unicodedata

import pytest
from django.core import checks
from django.db import connection

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
    assert installed_unicode_version(connection) == unicodedata.unidata_version


@on_postgres
def test_functions_of_another_unicode_version_than_python_s_are_an_error():
    record_version("13.0.0")
    [error] = unicode_errors()
    assert error.level == checks.ERROR
    assert "Unicode 13.0.0" in error.msg and unicodedata.unidata_version in error.msg
    assert "scripts/generate-postgres-username-key" in error.hint


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
