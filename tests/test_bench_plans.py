"""At scale, the login lookup and the sign-up checks use indexes, never a scan of a table.

The plan, not the time: 50,000 users are loaded in bulk (``bench.loading``, the benchmarks' own
loader; factories would take minutes), then every statement our code sends is explained by the
database, and no plan may read a whole table.
"""

import random
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from authfold.accounts.models import CaselessKey, RenameRecord
from authfold.accounts.validators import (
    validate_email_available,
    validate_email_not_username_of_other,
    validate_username_available,
    validate_username_not_email_of_other,
    validate_username_not_lookalike,
)
from authfold.backends import CaseInsensitiveModelBackend
from bench.loading import analyze_tables, email_for, load_users, random_case, username_for
from bench.naive import IexactModelBackend
from bench.plans import issued_statements, plans_of

SCALE_USERS = 50_000

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
User = get_user_model()


@pytest.fixture(scope="module")
def users_at_scale(django_db_setup, django_db_blocker):
    """50,000 users with their keys, and fresh planner statistics, for this module's tests."""
    with django_db_blocker.unblock():
        loaded = load_users(SCALE_USERS)
        analyze_tables()
    yield loaded
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for table, column in ((CaselessKey._meta.db_table, "user_id"), (User._meta.db_table, "id")):
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} BETWEEN %s AND %s",
                [loaded.first_id, loaded.last_id],
            )


def scanned_tables(call):
    """Every table some statement of ``call()`` reads in full, by the database's own plan."""
    plans = plans_of(call)
    assert plans, "the call sent no statement to the database"
    return set().union(*(plan.scanned_tables for plan in plans))


def a_user(loaded):
    number = random.Random(8).randrange(loaded.count)
    return loaded.first_id + number, username_for(number)


def test_login_lookup_in_any_case_uses_indexes_at_scale(users_at_scale):
    pk, username = a_user(users_at_scale)
    login = random_case(username)
    found = CaseInsensitiveModelBackend().find_user(login)
    assert found.pk == pk
    assert scanned_tables(lambda: CaseInsensitiveModelBackend().find_user(login)) == set()


def test_login_lookup_of_an_unknown_name_uses_indexes_at_scale(users_at_scale):
    assert CaseInsensitiveModelBackend().find_user("NoSuchUser123") is None
    assert scanned_tables(lambda: CaseInsensitiveModelBackend().find_user("NoSuchUser123")) == set()


def test_login_lookup_by_email_uses_indexes_at_scale(users_at_scale, settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    pk, _username = a_user(users_at_scale)
    login = email_for(pk - users_at_scale.first_id).upper()
    assert CaseInsensitiveModelBackend().find_user(login).pk == pk
    assert scanned_tables(lambda: CaseInsensitiveModelBackend().find_user(login)) == set()


def test_sign_up_username_check_uses_indexes_at_scale(users_at_scale):
    assert scanned_tables(lambda: validate_username_available("Newcomer.Maria")) == set()


def test_sign_up_lookalike_check_uses_indexes_at_scale(users_at_scale, settings):
    settings.AUTHFOLD_REFUSE_LOOKALIKES = True
    assert scanned_tables(lambda: validate_username_not_lookalike("Newcomer.Maria")) == set()


def test_sign_up_email_check_uses_indexes_at_scale(users_at_scale):
    assert scanned_tables(lambda: validate_email_available("Newcomer.Maria@Example.com")) == set()


def test_sign_up_username_is_not_an_email_check_uses_indexes_at_scale(users_at_scale):
    check = lambda: validate_username_not_email_of_other("Newcomer.Maria@Example.com")  # noqa: E731
    assert scanned_tables(check) == set()


def test_sign_up_email_is_not_a_username_check_uses_indexes_at_scale(users_at_scale):
    # One IN lookup over the address's spellings (an IDN domain has two forms).
    check = lambda: validate_email_not_username_of_other("Newcomer.Maria@Bücher.de")  # noqa: E731
    assert scanned_tables(check) == set()


def test_plan_check_catches_a_lookup_that_scans_auth_user(users_at_scale):
    # auth_user.email has no index in Django: the exact email filter reads the whole table.
    lookup = lambda: User.objects.filter(email="nobody@example.com").exists()  # noqa: E731
    assert User._meta.db_table in scanned_tables(lookup)


def test_naive_iexact_login_scans_or_misses_the_user_at_scale(users_at_scale):
    """What the naive retrofit does at scale: SQLite and PostgreSQL read all of auth_user; under
    MariaDB's binary collation (the one a table with twins has) LIKE is case-sensitive, so it
    can use the username index but does not find the user in another case."""
    _pk, username = a_user(users_at_scale)
    login = username.swapcase()
    found = IexactModelBackend().authenticate(None, username=login, password="wrong")
    assert found is None  # the wrong password; the plan is what this test is about
    scans = scanned_tables(lambda: list(User.objects.filter(username__iexact=login)))
    if connection.vendor == "mysql":
        assert scans == set()
        assert not User.objects.filter(username__iexact=login).exists()
    else:
        assert User._meta.db_table in scans


def test_issued_statements_are_what_the_call_sends(users_at_scale):
    statements = issued_statements(lambda: validate_username_available("Newcomer.Maria"))
    assert len(statements) == 1
    # PostgreSQL looks the name up in auth_user's expression index (migration 0008).
    looked_in = "authfold_username_digest(" if connection.vendor == "postgresql" else None
    assert (looked_in or CaselessKey._meta.db_table) in statements[0]


RENAMES_AT_SCALE = 5_000


@pytest.fixture(scope="module")
def renames_at_scale(users_at_scale, django_db_blocker):
    """A rename log of 5,000 records (old name ``Old.N`` for the Nth loaded user), analyzed.

    Written outside the tests' transactions, as the users are: MariaDB's ANALYZE commits."""
    records = [
        RenameRecord(
            run=uuid.uuid4(),
            user_id=users_at_scale.first_id + number,
            old_username=f"Old.{number}",
            new_username=username_for(number),
            reason="bench",
        )
        for number in range(RENAMES_AT_SCALE)
    ]
    table = connection.ops.quote_name(RenameRecord._meta.db_table)
    with django_db_blocker.unblock():
        RenameRecord.objects.bulk_create(records, batch_size=1000)
        with connection.cursor() as cursor:
            if connection.vendor == "mysql":
                cursor.execute(f"ANALYZE TABLE {table}")
                cursor.fetchall()
            else:
                cursor.execute("ANALYZE" if connection.vendor == "sqlite" else f"ANALYZE {table}")
    yield
    with django_db_blocker.unblock():
        RenameRecord.objects.filter(reason="bench").delete()


def test_login_lookup_of_a_renamed_accounts_old_name_uses_indexes_at_scale(
    users_at_scale, renames_at_scale
):
    number = random.Random(8).randrange(RENAMES_AT_SCALE)
    pk, old_name = users_at_scale.first_id + number, f"Old.{number}"
    assert CaseInsensitiveModelBackend().find_user(old_name).pk == pk
    assert scanned_tables(lambda: CaseInsensitiveModelBackend().find_user(old_name)) == set()
