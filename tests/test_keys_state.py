"""Lookups notice a ``migrate`` made in the same process: after ``migrate authfold zero`` they fall
back to the database's comparison instead of querying the key table that is gone."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from authfold.accounts.caseless import caseless_keys_ready, users_with_username
from tests.twins import bulk_users

User = get_user_model()


@pytest.mark.django_db(transaction=True)
def test_lookups_after_migrating_authfold_to_zero_do_not_query_the_dropped_key_table():
    assert caseless_keys_ready("default")  # looked once, and remembered
    bulk_users("maria")
    call_command("migrate", "authfold", "zero", verbosity=0)
    try:
        found = list(users_with_username(User.objects.all(), "MARIA"))
    finally:
        call_command("migrate", verbosity=0)
    assert [user.username for user in found] == ["maria"]
