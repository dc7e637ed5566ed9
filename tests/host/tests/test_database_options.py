"""The host's own database options still apply beside the ones the runbook adds (merged, not
replaced): SQLite's ``init_command``, MariaDB's ``sql_mode``, PostgreSQL's ``options``."""

import django
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_hosts_own_database_options_still_apply():
    options = connection.settings_dict["OPTIONS"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and django.VERSION >= (5, 1):
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL, from the host's init_command
            assert options["transaction_mode"] == "IMMEDIATE"  # the runbook's
            assert options["timeout"] == 20
        elif connection.vendor == "sqlite":
            assert connection.settings_dict["ENGINE"] == "authfold.accounts.sqlite3"
            assert options["timeout"] == 20
        elif connection.vendor == "mysql":
            cursor.execute("SELECT @@SESSION.sql_mode")
            assert "STRICT_TRANS_TABLES" in cursor.fetchone()[0]
        else:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "30s"
