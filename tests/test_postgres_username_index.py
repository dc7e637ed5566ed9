"""On PostgreSQL the database computes the username key itself (functions generated from Python's
definition) and its unique expression index on ``auth_user`` refuses a caseless twin from every
write path; elsewhere migration 0008 changes nothing."""

import os
import signal
import subprocess
import sys
import time
import unicodedata

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from authfold.accounts import unicode_pinned
from authfold.accounts.caseless import (
    forget_caseless_keys_state,
    username_digest,
    username_key,
)
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.postgres_index import index_name, index_state
from authfold.accounts.postgres_login import drop_function_sql
from authfold.accounts.serializers import RegistrationSerializer
from authfold.backends import CaseInsensitiveModelBackend
from authfold.data_migrations.postgres_keys import (
    FUNCTIONS_SQL_PATH,
    MAX_CODE_POINT,
    PINNED_UNICODE_PATH,
    SURROGATES,
    UsernameTwinsRemain,
    generated_unicode_version,
    render_functions_sql,
    render_pinned_unicode,
)
from tests.django_process import ROOT, child_environment
from tests.factories import DEFAULT_PASSWORD, UserFactory

User = get_user_model()
TABLE = User._meta.db_table

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the expression index is PostgreSQL's"
)

STRINGS_OF_INTEREST = [
    "Straße",
    "STRASSE",
    "ẞ",
    "İstanbul",
    "istanbul",
    "ﬃ",
    "ΌΣΟΣ",
    "όσος",
    "όσοσ",
    "ＭＡＲＩＡ",
    "maria",
    "ǰ",
    "ᾼ",
    "Джон",
    "x\u0307",
    "\u212b",
]


def sql_values(function, strings):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(s) FROM unnest(%s::text[]) s", [strings])
        return [row[0] for row in cursor.fetchall()]


pinned_python = pytest.mark.skipif(
    unicodedata.unidata_version != unicode_pinned.UNICODE_VERSION,
    reason="the generator runs on the Python of the pinned Unicode version",
)


@pinned_python
def test_the_committed_functions_are_what_the_generator_writes_from_this_python():
    assert FUNCTIONS_SQL_PATH.read_text(encoding="utf-8") == render_functions_sql()


@pinned_python
def test_the_committed_pin_is_what_the_generator_writes_from_this_python():
    assert PINNED_UNICODE_PATH.read_text(encoding="utf-8") == render_pinned_unicode()


def test_the_functions_and_the_pin_name_one_unicode_version():
    assert generated_unicode_version() == unicode_pinned.UNICODE_VERSION


@on_postgres
@pytest.mark.django_db
def test_the_sql_key_equals_username_key_for_every_code_point():
    """One pass over all 1,112,063 code points: the Python side sends only the code points whose
    key is not the character itself, and the database reports every disagreement."""
    changed = {
        n: username_key(chr(n))
        for n in range(1, MAX_CODE_POINT + 1)
        if n not in SURROGATES and username_key(chr(n)) != chr(n)
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n, authfold_username_key(chr(n)), expected.key "
            "FROM generate_series(1, %s) n "
            "LEFT JOIN unnest(%s::int[], %s::text[]) AS expected(n, key) USING (n) "
            "WHERE n NOT BETWEEN %s AND %s "
            "AND authfold_username_key(chr(n)) IS DISTINCT FROM coalesce(expected.key, chr(n))",
            [MAX_CODE_POINT, list(changed), list(changed.values()), SURROGATES[0], SURROGATES[-1]],
        )
        disagreements = cursor.fetchall()
    assert disagreements == []
    assert len(changed) > 5000


@on_postgres
@pytest.mark.django_db
def test_the_sql_key_and_digest_equal_pythons_for_strings_of_interest():
    assert sql_values("authfold_username_key", STRINGS_OF_INTEREST) == [
        username_key(s) for s in STRINGS_OF_INTEREST
    ]
    assert sql_values("authfold_username_digest", STRINGS_OF_INTEREST) == [
        username_digest(s) for s in STRINGS_OF_INTEREST
    ]


@on_postgres
@pytest.mark.django_db
def test_the_index_is_there_and_valid_after_migrate():
    assert index_state(connection, TABLE) == "valid"


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_bulk_create_of_a_twin_is_refused():
    UserFactory(username="Straße")
    with pytest.raises(CaselessConflict) as refusal:
        User.objects.bulk_create([User(username="STRASSE")])
    assert refusal.value.field == "username"
    assert User.objects.count() == 1


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_update_into_a_twin_is_refused():
    UserFactory(username="maria")
    other = UserFactory(username="john")
    with pytest.raises(CaselessConflict):
        User.objects.filter(pk=other.pk).update(username="ＭＡＲＩＡ")
    assert User.objects.get(pk=other.pk).username == "john"


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_raw_sql_insert_of_a_twin_is_refused():
    UserFactory(username="maria")
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) "
            "VALUES ('!', false, 'MARIA', '', '', '', false, true, now())"
        )
    assert User.objects.count() == 1


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_twin_written_outside_django_is_refused():
    UserFactory(username="maria")
    settings = connection.settings_dict
    with (
        psycopg.connect(
            host=settings["HOST"],
            port=settings["PORT"],
            user=settings["USER"],
            password=settings["PASSWORD"],
            dbname=settings["NAME"],
            autocommit=True,
        ) as outside,
        pytest.raises(psycopg.errors.UniqueViolation) as refusal,
    ):
        outside.execute(f"UPDATE {TABLE} SET username = 'Maria' WHERE username = 'maria'")
        outside.execute(
            f"INSERT INTO {TABLE} (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) "
            "VALUES ('!', false, 'MARİA', '', '', '', false, true, now()), "
            "('!', false, 'ＭＡＲＩＡ', '', '', '', false, true, now())"
        )
    assert index_name(TABLE) in str(refusal.value)
    assert list(User.objects.values_list("username", flat=True)) == ["Maria"]


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_sign_up_refused_by_the_index_answers_on_username():
    """A twin that no key stands for (bulk_create) appears after validation: the index refuses."""
    serializer = RegistrationSerializer(
        data={"username": "maria", "email": "maria@example.com", "password": DEFAULT_PASSWORD}
    )
    assert serializer.is_valid(), serializer.errors
    User.objects.bulk_create([User(username="MARIA", email="other@example.com")])
    with pytest.raises(serializers.ValidationError) as refusal:
        serializer.save()
    assert refusal.value.get_codes() == {"username": ["username_taken"]}
    assert list(User.objects.values_list("username", flat=True)) == ["MARIA"]


@pytest.fixture
def login_function_dropped(db):
    """The lookup's statement as a database without the login function (before 0015) sends it;
    the drop is undone with the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(drop_function_sql())
    forget_caseless_keys_state()
    yield
    forget_caseless_keys_state()


@on_postgres
@pytest.mark.django_db
def test_a_login_is_one_statement_on_the_user_table_through_the_index(
    throttles_counting_in_memory, login_function_dropped
):
    user = UserFactory(username="Straße")
    with CaptureQueriesContext(connection) as captured:
        found = CaseInsensitiveModelBackend().authenticate(
            None, username="Straße", password=DEFAULT_PASSWORD
        )
    assert found == user
    [lookup] = [query["sql"] for query in captured.captured_queries]
    caseless_branch = lookup.split(" UNION ALL ")[0]
    assert "authfold_username_digest" in caseless_branch
    assert " INNER JOIN " not in caseless_branch.upper()  # only the failed logins, LEFT JOINed
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: ask which index it would use
        cursor.execute(f"EXPLAIN {lookup}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert f"Index Scan using {index_name(TABLE)}" in plan


@pytest.mark.django_db(transaction=True)
def test_migrating_backwards_drops_the_index_and_forwards_builds_it(accounts_migrator):
    accounts_migrator.to("0005")
    assert index_state_anywhere() is None
    accounts_migrator.to("0008")
    expected = "valid" if connection.vendor == "postgresql" else None
    assert index_state_anywhere() == expected


def index_state_anywhere():
    """The index's state on PostgreSQL; on other databases, whether any index has its name."""
    if connection.vendor == "postgresql":
        return index_state(connection, TABLE)
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return "valid" if index_name(TABLE) in constraints else None


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_twins_on_the_user_table_stop_the_migration_naming_them(accounts_migrator):
    accounts_migrator.to("0005")
    UserFactory(username="maria")
    User.objects.bulk_create([User(username="MARIA")])
    with pytest.raises(UsernameTwinsRemain, match="'MARIA', 'maria'"):
        call_command("migrate", "authfold", "0008", verbosity=0)
    assert index_state(connection, TABLE) is None
    User.objects.filter(username="MARIA").delete()


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def building_backends(cursor):
    cursor.execute(
        "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE UNIQUE INDEX CONCURRENTLY%%' "
        "AND datname = current_database()"
    )
    return [row[0] for row in cursor.fetchall()]


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_migration_killed_while_building_the_index_runs_again_and_reverses(
    accounts_migrator, tmp_path
):
    """``migrate`` is killed (SIGKILL, and its server process ended, as a dying host's is) while
    ``CREATE INDEX CONCURRENTLY`` waits for an open write: PostgreSQL keeps an INVALID index,
    which running ``migrate`` again drops and builds anew."""
    accounts_migrator.to("0005")
    UserFactory(username="maria")
    settings = connection.settings_dict
    blocker = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname=settings["NAME"],
    )
    blocker.execute(f"UPDATE {TABLE} SET first_name = 'writing' WHERE username = 'maria'")
    migrate = subprocess.Popen(
        [sys.executable, "manage.py", "migrate", "authfold", "0008", "-v", "0"],
        cwd=ROOT,
        env=child_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        with connection.cursor() as cursor:
            wait_for(lambda: building_backends(cursor))
            os.kill(migrate.pid, signal.SIGKILL)
            migrate.wait()
            for pid in building_backends(cursor):
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            wait_for(lambda: not building_backends(cursor))
        assert index_state(connection, TABLE) == "invalid"
    finally:
        blocker.rollback()
        blocker.close()
        if migrate.poll() is None:
            migrate.kill()
    call_command("migrate", "authfold", "0008", verbosity=0)
    assert index_state(connection, TABLE) == "valid"
    with pytest.raises(CaselessConflict):
        User.objects.bulk_create([User(username="MARIA")])
    accounts_migrator.to("0005")
    assert index_state(connection, TABLE) is None


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_an_interrupted_build_can_be_reversed_too(accounts_migrator):
    accounts_migrator.to("0005")
    call_command("migrate", "authfold", "0008", verbosity=0)
    with connection.cursor() as cursor:  # what a killed build leaves: the index, marked INVALID
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
            [index_name(TABLE)],
        )
    assert index_state(connection, TABLE) == "invalid"
    accounts_migrator.to("0005")
    assert index_state(connection, TABLE) is None
