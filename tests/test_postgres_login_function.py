"""On PostgreSQL the login lookup runs inside a function whose plan the server keeps (migration
0015): one statement per login, the same users found as by the lookup's statement, the expression
index used by the plan the function keeps, and the statement again once the function is gone."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authfold.accounts.caseless import forget_caseless_keys_state, username_digest
from authfold.accounts.postgres_index import index_name
from authfold.accounts.postgres_login import (
    FUNCTION,
    SIGNATURE,
    explain_kept_plan,
    login_function_ready,
)
from authfold.backends import CaseInsensitiveModelBackend
from tests.factories import DEFAULT_PASSWORD, UserFactory

User = get_user_model()

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the login function is PostgreSQL's"
)


def login(typed):
    return CaseInsensitiveModelBackend().authenticate(
        None, username=typed, password=DEFAULT_PASSWORD
    )


def function_exists():
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [SIGNATURE])
        return cursor.fetchone()[0]


@on_postgres
@pytest.mark.django_db
def test_a_login_calls_the_function_in_one_statement(throttles_counting_in_memory):
    user = UserFactory(username="Straße")
    login("strasse")  # this connection's first login, if no test logged in on it before
    with CaptureQueriesContext(connection) as captured:
        assert login("STRASSE") == user
    [lookup] = [query["sql"] for query in captured.captured_queries]
    assert f"FROM {FUNCTION}(" in lookup
    assert "UNION" not in lookup


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_connections_first_login_sends_the_statement(throttles_counting_in_memory):
    """The function's first call on a connection costs more than the statement: a connection
    closed after each request (CONN_MAX_AGE = 0) never calls it."""
    user = UserFactory(username="Maria")
    connection.close()
    lookups = []
    for typed in ("maria", "MARIA", "Maria"):
        with CaptureQueriesContext(connection) as captured:
            assert login(typed) == user
        [lookup] = [query["sql"] for query in captured.captured_queries]
        lookups.append(f"FROM {FUNCTION}(" in lookup)
    assert lookups == [False, True, True]


@on_postgres
@pytest.mark.django_db
def test_the_plan_the_function_keeps_scans_the_expression_index():
    """PL/pgSQL keeps a generic plan (parameters unknown when planning): that plan must still use
    the index, or every login would read the whole table."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: ask which index it would use
        try:
            plan = "\n".join(
                explain_kept_plan(cursor, f"'{username_digest('maria')}', 'maria', now()")
            )
        finally:
            cursor.execute("RESET enable_seqscan")
    assert f"Index Scan using {index_name(User._meta.db_table)}" in plan


@on_postgres
@pytest.mark.django_db
def test_a_swapped_user_table_is_not_served_by_the_function(swap_user_model):
    """The function returns rows of the table it was created for; another user model's logins
    send the statement."""
    swapped = swap_user_model("NamedUser")
    assert not login_function_ready(connection.alias, swapped)
    assert login_function_ready(connection.alias, User)


@pytest.mark.django_db(transaction=True)
def test_migrating_backwards_drops_the_function_and_logins_go_on(
    accounts_migrator, throttles_counting_in_memory
):
    user = UserFactory(username="Maria")
    accounts_migrator.to("0014")
    forget_caseless_keys_state()
    assert not function_exists()
    with CaptureQueriesContext(connection) as captured:
        assert login("MARIA") == user
    assert all(f"FROM {FUNCTION}(" not in query["sql"] for query in captured.captured_queries)
    accounts_migrator.to("0015")
    assert function_exists() == (connection.vendor == "postgresql")
    assert login("maria") == user
