"""Fails fast, with a clear message, when the database in DATABASE_URL cannot be reached.

pytest would fail too, but later and with a traceback; this names the database and the fix.
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
django.setup()

from django.db import connection  # noqa: E402
from django.db.utils import OperationalError  # noqa: E402

deadline = time.monotonic() + float(os.environ.get("AUTHFOLD_DB_WAIT_SECONDS", "30"))
while True:
    try:
        if connection.vendor == "sqlite":
            break
        # The test database is created by pytest-django; the server is what must answer.
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1")
        break
    except OperationalError as error:
        if time.monotonic() > deadline:
            sys.exit(
                f"Database {connection.vendor} at {connection.settings_dict['HOST']} is unreachable: {error}"
            )
        time.sleep(1)
