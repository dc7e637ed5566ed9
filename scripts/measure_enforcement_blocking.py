"""How long migration 0003 blocks writes on PostgreSQL, at a given number of users (docs/ADOPTING.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/authfold_enforce_big \
        .venv/bin/python scripts/measure_enforcement_blocking.py --users 1000000

Recreates that database, migrates the accounts app to 0002, loads the users and their keys with
COPY, then runs ``migrate authfold 0003`` while two writers keep going: one UPDATEs ``auth_user``
rows, one signs users up with ``create_user`` (which writes the key table). It prints how long the
migration took and the longest any single write waited, before and during it. With ``--blocking``
it also builds the same constraint the plain way (``ALTER TABLE ... ADD CONSTRAINT``), to compare.
"""

import argparse
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")


def manage(*arguments):
    """Run manage.py in a child process (its own connection, as in a deploy); seconds taken."""
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *arguments], check=True)
    return time.monotonic() - started


def recreate_database():
    import psycopg
    from django.conf import settings

    config = settings.DATABASES["default"]
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def load_users(count):
    """COPY ``count`` users and their keys (a few case variants of real-looking names)."""
    from django.db import connection

    from authfold.accounts.key_rows import key_fields

    started = time.monotonic()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY auth_user (id, password, is_superuser, username, first_name, last_name, email, "
            "is_staff, is_active, date_joined) FROM STDIN"
        ) as copy:
            for n in range(1, count + 1):
                name = f"User{n}" if n % 3 else f"user.{n}"
                copy.write_row(
                    (
                        n,
                        "!",
                        False,
                        name,
                        "",
                        "",
                        f"{name}@Example.com",
                        False,
                        True,
                        "2020-01-01 00:00:00+00",
                    )
                )
        with raw.copy(
            "COPY authfold_caselesskey (user_id, username_digest, email_digest) FROM STDIN"
        ) as copy:
            for n in range(1, count + 1):
                name = f"User{n}" if n % 3 else f"user.{n}"
                fields = key_fields(name, f"{name}@Example.com")
                copy.write_row((n, fields["username_digest"], fields["email_digest"]))
        cursor.execute("SELECT setval('auth_user_id_seq', %s)", [count])
        cursor.execute("ANALYZE auth_user")
        cursor.execute("ANALYZE authfold_caselesskey")
    return time.monotonic() - started


class Writer(threading.Thread):
    """Repeats one write, recording (start time, seconds waited) for each, until stopped."""

    def __init__(self, write):
        super().__init__(daemon=True)
        self.write = write
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        from django.db import connections

        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                self.write()
                self.samples.append((started, time.monotonic() - started))
                time.sleep(0.01)
        finally:
            connections.close_all()

    def longest_wait(self, since, until):
        waits = [wait for started, wait in self.samples if since <= started <= until]
        return max(waits, default=0.0), len(waits)


def update_a_user(count):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    user_model = get_user_model()

    def write():
        user_model.objects.filter(pk=random.randint(1, count)).update(last_login=timezone.now())

    return write


def sign_up():
    from django.contrib.auth import get_user_model

    user_model = get_user_model()

    def write():
        name = f"signup-{uuid.uuid4().hex[:16]}"
        user_model.objects.create_user(name, f"{name}@example.org")

    return write


def measure(label, run_migration, count):
    writers = [Writer(update_a_user(count)), Writer(sign_up())]
    for writer in writers:
        writer.start()
    time.sleep(3)
    baseline_end = time.monotonic()
    seconds = run_migration()
    migration_end = time.monotonic()
    time.sleep(1)
    for writer in writers:
        writer.stopping.set()
        writer.join()
    print(f"\n{label}: the migration took {seconds:.1f} s")
    for name, writer in zip(("UPDATE auth_user", "create_user (sign-up)"), writers, strict=True):
        before, _ = writer.longest_wait(0, baseline_end)
        during, samples = writer.longest_wait(baseline_end, migration_end)
        print(
            f"  {name:24} longest wait before: {before * 1000:7.1f} ms   "
            f"during: {during * 1000:8.1f} ms  ({samples} writes during)"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--blocking", action="store_true", help="also time a plain, locking build")
    options = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("This measures PostgreSQL's concurrent index build: set DATABASE_URL to one.")
    recreate_database()
    manage("migrate", "auth", "--verbosity", "0")
    manage("migrate", "authfold", "0002", "--verbosity", "0")
    print(f"loaded {options.users} users and keys with COPY in {load_users(options.users):.1f} s")
    connection.close()

    measure(
        "0003 (CREATE UNIQUE INDEX CONCURRENTLY)",
        lambda: manage("migrate", "authfold", "0003"),
        options.users,
    )
    if options.blocking:
        manage("migrate", "authfold", "0002", "--verbosity", "0")

        def plain_build():
            from django.db import connections

            started = time.monotonic()
            with connections["default"].cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE authfold_caselesskey ADD CONSTRAINT "
                    "authfold_caselesskey_username_digest_unique UNIQUE (username_digest)"
                )
            return time.monotonic() - started

        measure(
            "for comparison, a plain ALTER TABLE ADD CONSTRAINT UNIQUE", plain_build, options.users
        )


if __name__ == "__main__":
    main()
