"""A user deleted around Django (raw SQL with the foreign keys off, as MySQL's ``flush`` and
restores do) leaves nothing behind that refuses the next account with that name."""

from contextlib import contextmanager

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.db import connection
from django.test import RequestFactory

from accounts.models import Profile
from tests.people import PASSWORD

User = get_user_model()


@contextmanager
def foreign_keys_off():
    """What ``flush`` and restore tools do: delete without the database's foreign-key checks."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
    else:
        with connection.constraint_checks_disabled():
            yield


@pytest.mark.django_db(transaction=True)
def test_a_user_deleted_by_raw_sql_does_not_block_a_new_account_with_the_name(make_user):
    gone = make_user("ghost")
    with foreign_keys_off(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Profile._meta.db_table} WHERE user_id = %s", [gone.pk])
        cursor.execute(f"DELETE FROM {User._meta.db_table} WHERE id = %s", [gone.pk])

    new = make_user("GHOST", email="ghost.again@example.com")

    assert list(User.objects.values_list("username", flat=True)) == ["GHOST"]
    assert authenticate(RequestFactory().post("/"), username="ghost", password=PASSWORD) == new
