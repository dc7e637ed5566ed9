"""The enforcement migrations (0003's username constraint, 0007's email claims), killed at any
point, can be run again and can be reversed (0008's PostgreSQL index: test_postgres_username_index).

On PostgreSQL a real ``manage.py migrate`` is killed while its build waits for a lock another
connection holds; elsewhere a kill leaves either nothing or a complete index (SQLite's DDL is
transactional and 0003 builds in one statement; MariaDB's DDL is atomic), so the tests leave such
an index behind by hand.
"""

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.migrations.recorder import MigrationRecorder

from authfold.accounts.caseless import email_digest
from authfold.accounts.models import CaselessKey
from authfold.accounts.writes import insert_rows
from authfold.data_migrations.email_claims import CLAIM_INDEX_NAME
from authfold.data_migrations.enforcement import USERNAME_INDEX_NAME
from tests.django_process import ROOT, child_environment, run_manage

User = get_user_model()
TABLE = CaselessKey._meta.db_table
WAIT_FOR_LOCK_SECONDS = 60

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a concurrent build waits on PostgreSQL only"
)


def index_state(name):
    """What is there under ``name``: None, "invalid", "valid" or "constraint"."""
    from authfold.data_migrations.enforcement import index_state as state

    with connection.schema_editor(atomic=False) as schema_editor:
        return state(schema_editor, TABLE, name)


def resolved_twins(accounts_migrator):
    """``maria`` and ``MARIA`` resolved by 0002 (``MARIA`` became ``MARIA_1``), 0003 not applied."""
    accounts_migrator.to("0001")
    User.objects.bulk_create([User(username="maria"), User(username="MARIA")])
    accounts_migrator.to("0002")
    assert set(User.objects.values_list("username", flat=True)) == {"maria", "MARIA_1"}


def postgres_session():
    """A connection of its own to the test database, in autocommit (the lock holder)."""
    config = connection.settings_dict
    return psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname=config["NAME"],
        autocommit=True,
    )


def kill_migrate_while_waiting(tmp_path, lock_mode, statement):
    """Start ``manage.py migrate authfold 0003`` while another session holds ``lock_mode`` on the
    key table; once its ``statement`` waits for that lock, kill it (SIGKILL) and end its server
    session too (a server finishes a waiting statement for a client that is gone), then let go."""
    holder = postgres_session()
    watcher = postgres_session()
    holder.execute("BEGIN")
    holder.execute(f"LOCK TABLE {TABLE} IN {lock_mode} MODE")
    child = subprocess.Popen(
        [sys.executable, "manage.py", "migrate", "authfold", "0003"],
        cwd=ROOT,
        env=child_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + WAIT_FOR_LOCK_SECONDS
        backend = None
        while backend is None and time.monotonic() < deadline:
            backend = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE %s",
                [statement + "%"],
            ).fetchone()
            time.sleep(0.1)
        assert backend is not None, f"migrate never waited in {statement!r}"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        watcher.execute("SELECT pg_terminate_backend(%s)", [backend[0]])
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        holder.execute("ROLLBACK")
        holder.close()
        watcher.close()


def migrate(tmp_path, *args):
    finished = run_manage(tmp_path, "migrate", "authfold", *args)
    assert finished.returncode == 0, finished.stderr
    return finished


@postgres_only
def test_migrate_killed_while_building_the_index_leaves_an_invalid_index_that_a_rerun_replaces(
    accounts_migrator, tmp_path
):
    resolved_twins(accounts_migrator)
    kill_migrate_while_waiting(tmp_path, "ROW EXCLUSIVE", "CREATE UNIQUE INDEX CONCURRENTLY")
    assert index_state(USERNAME_INDEX_NAME) == "invalid"
    migrate(tmp_path, "0003")
    assert index_state(USERNAME_INDEX_NAME) == "constraint"
    migrate(tmp_path, "zero")
    assert index_state(USERNAME_INDEX_NAME) is None


@postgres_only
def test_migrate_killed_while_building_the_index_can_be_reversed_at_once(
    accounts_migrator, tmp_path
):
    resolved_twins(accounts_migrator)
    kill_migrate_while_waiting(tmp_path, "ROW EXCLUSIVE", "CREATE UNIQUE INDEX CONCURRENTLY")
    migrate(tmp_path, "zero")
    assert set(User.objects.values_list("username", flat=True)) == {"maria", "MARIA"}


@postgres_only
def test_migrate_killed_while_attaching_the_constraint_leaves_a_valid_index_that_a_rerun_attaches(
    accounts_migrator, tmp_path
):
    resolved_twins(accounts_migrator)
    kill_migrate_while_waiting(tmp_path, "ACCESS SHARE", "ALTER TABLE")
    assert index_state(USERNAME_INDEX_NAME) == "valid"
    migrate(tmp_path, "0003")
    assert index_state(USERNAME_INDEX_NAME) == "constraint"


@postgres_only
def test_migrate_killed_while_attaching_the_constraint_can_be_reversed_at_once(
    accounts_migrator, tmp_path
):
    resolved_twins(accounts_migrator)
    kill_migrate_while_waiting(tmp_path, "ACCESS SHARE", "ALTER TABLE")
    migrate(tmp_path, "zero")
    assert set(User.objects.values_list("username", flat=True)) == {"maria", "MARIA"}


def leave_index(name, column):
    """What a kill after the index was built (before Django recorded the migration) leaves."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNIQUE INDEX {quote(name)} ON {quote(TABLE)} ({quote(column)})")


def test_a_complete_username_index_left_by_a_kill_is_kept_by_a_rerun(accounts_migrator):
    resolved_twins(accounts_migrator)
    leave_index(USERNAME_INDEX_NAME, "username_digest")
    accounts_migrator.to("0003")
    assert index_state(USERNAME_INDEX_NAME) in {"valid", "constraint"}
    accounts_migrator.to("0002")
    assert index_state(USERNAME_INDEX_NAME) is None


def test_a_username_index_left_by_a_kill_does_not_stop_reversing(accounts_migrator):
    resolved_twins(accounts_migrator)
    leave_index(USERNAME_INDEX_NAME, "username_digest")
    accounts_migrator.to("zero")
    assert set(User.objects.values_list("username", flat=True)) == {"maria", "MARIA"}


CLAIMS = "0007_key_reservations_and_email_claims"


# Migration 0007's reservation table (its model has since given way to the claims).
RESERVATION_TABLE = "authfold_keyreservation"


def killed_after(accounts_migrator, steps_left_undone=()):
    """What a kill during 0007 leaves: its steps done up to the kill, and Django not having
    recorded it (it records a migration at its end). ``steps_left_undone`` takes back the steps
    after the kill: ``"index"`` (the claim index), ``"table"`` (the reservation table)."""
    accounts_migrator.to(CLAIMS)
    MigrationRecorder(connection).record_unapplied("authfold", CLAIMS)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if "index" in steps_left_undone:
            if connection.vendor == "mysql":
                cursor.execute(f"DROP INDEX {quote(CLAIM_INDEX_NAME)} ON {quote(TABLE)}")
            else:
                cursor.execute(f"DROP INDEX {quote(CLAIM_INDEX_NAME)}")
        if "table" in steps_left_undone:
            cursor.execute(f"DROP TABLE {quote(RESERVATION_TABLE)}")


@pytest.mark.parametrize(
    "undone", [(), ("index",), ("index", "table")], ids=["all-done", "no-index", "column-only"]
)
def test_0007_killed_at_any_step_runs_again_and_reverses(accounts_migrator, undone):
    ann = User.objects.create_user("ann", "ann@example.com")
    killed_after(accounts_migrator, undone)
    accounts_migrator.to(CLAIMS)
    assert index_state(CLAIM_INDEX_NAME) == "valid"
    assert RESERVATION_TABLE in connection.introspection.table_names()
    claims = CaselessKey.objects.values_list("email_claim", flat=True)
    assert claims.get(user=ann) == email_digest("ann@example.com")
    (bea,) = User.objects.bulk_create([User(username="bea", email="ANN@example.com")])
    with pytest.raises(IntegrityError), transaction.atomic():
        # Naming only the columns this schema has (no key sources before migration 0014).
        insert_rows(
            CaselessKey,
            connection.alias,
            ("user", "username_digest", "email_claim"),
            [(bea.pk, "bea", email_digest("ANN@example.com"))],
        )
    bea.delete()
    MigrationRecorder(connection).record_unapplied("authfold", CLAIMS)
    accounts_migrator.to(CLAIMS)  # killed once more after everything: still runs again
    accounts_migrator.to("0005")
    assert index_state(CLAIM_INDEX_NAME) is None


@postgres_only
def test_an_invalid_claim_index_left_by_a_kill_is_replaced_by_a_rerun(accounts_migrator):
    ann = User.objects.create_user("ann", "ann@example.com")
    bea = User.objects.create_user("bea", "bea@example.com")
    killed_after(accounts_migrator, ("index",))
    keys = CaselessKey.objects.filter(user=bea)
    # An INVALID index, as a killed concurrent build leaves: here, one that a duplicate failed.
    keys.update(email_claim=CaselessKey.objects.values_list("email_claim", flat=True).get(user=ann))
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY {CLAIM_INDEX_NAME} ON {TABLE} (email_claim)"
        )
    assert index_state(CLAIM_INDEX_NAME) == "invalid"
    keys.update(email_claim=email_digest("bea@example.com"))
    accounts_migrator.to(CLAIMS)
    assert index_state(CLAIM_INDEX_NAME) == "valid"
