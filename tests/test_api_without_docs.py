"""A host can mount the API without drf-spectacular: no ``drf_spectacular`` in ``INSTALLED_APPS``,
DRF's default schema class, and ``authfold.accounts.api.urls`` alone. The same host has SQLite
options of its own, which the runbook's SQLite step adds to rather than replaces.

The host runs in its own process (``tests.hostless.settings``) on a throwaway SQLite file, because
what is under test is start-up: what the API's modules import, and which apps they need.
"""

import os
import subprocess
import sys
from pathlib import Path

import django
import pytest

from tests.django_process import run_in_own_host

CHECKOUT = Path(__file__).resolve().parent.parent

# Runs inside the host without docs; prints what each step answered, as JSON.
HOST_SESSION = """
import json
import django
django.setup()
from django.apps import apps
from django.core.management import call_command
from django.db import connections
from django.test import Client

call_command("check", fail_level="WARNING")
call_command("migrate", verbosity=0)
client = Client()
signup = client.post(
    "/api/users/",
    {"username": "Maria", "email": "maria@example.com", "password": "a-long-pass-phrase"},
    content_type="application/json",
)
login = client.post(
    "/api/auth/token/",
    {"username": "MARIA", "password": "a-long-pass-phrase"},
    content_type="application/json",
)
me = client.get("/api/users/me/", HTTP_AUTHORIZATION="Token " + login.json()["token"])
database = connections["default"]
with database.cursor() as cursor:
    cursor.execute("PRAGMA cache_size")
    cache_size = cursor.fetchone()[0]
print(json.dumps({
    "spectacular_installed": apps.is_installed("drf_spectacular"),
    "signup": signup.status_code,
    "login": login.status_code,
    "me": [me.status_code, me.json()["username"]],
    "schema": client.get("/api/schema/").status_code,
    "docs": client.get("/api/docs/").status_code,
    "sqlite": {
        "cache_size": cache_size,
        "timeout": database.get_connection_params()["timeout"],
        "begins_immediate": getattr(database, "transaction_mode", None) == "IMMEDIATE"
        or type(database).__module__ == "authfold.accounts.sqlite3.base",
    },
}))
"""


@pytest.fixture(scope="module")
def host_without_docs(tmp_path_factory):
    """What the host without docs answered: its checks pass, then one sign-up, login and profile."""
    return run_in_own_host(
        "tests.hostless.settings", HOST_SESSION, tmp_path_factory.mktemp("hostless")
    )


def test_the_host_without_docs_has_no_drf_spectacular_app(host_without_docs):
    assert host_without_docs["spectacular_installed"] is False


def test_the_api_works_in_a_host_without_drf_spectacular(host_without_docs):
    assert host_without_docs["signup"] == 201
    assert host_without_docs["login"] == 200
    assert host_without_docs["me"] == [200, "Maria"]


def test_the_api_urls_alone_mount_no_schema_or_docs(host_without_docs):
    assert (host_without_docs["schema"], host_without_docs["docs"]) == (404, 404)


def test_the_runbooks_sqlite_options_keep_the_hosts_own(host_without_docs):
    """docs/ADOPTING.md adds ``timeout`` and ``transaction_mode`` to the host's SQLite OPTIONS."""
    sqlite = host_without_docs["sqlite"]
    assert sqlite["begins_immediate"] is True
    assert sqlite["timeout"] == 20
    if django.VERSION >= (5, 2):  # the host's init_command, which SQLite takes from Django 5.2
        assert sqlite["cache_size"] == -4321


def test_the_runbooks_sqlite_options_leave_another_database_alone():
    """The same settings on PostgreSQL: the runbook's lines add nothing its driver would refuse."""
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.hostless import settings; "
            "print(settings.DATABASES['default']['ENGINE'], "
            "sorted(settings.DATABASES['default'].get('OPTIONS', {})))",
        ],
        cwd=CHECKOUT,
        env={**os.environ, "DATABASE_URL": "postgres://someone@127.0.0.1:5432/somedb"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["django.db.backends.postgresql", "[]"]
