"""Key rows never outlive their users: a user deleted around Django's cascade (raw SQL, MariaDB's
flush with foreign key checks off) leaves a dead key, and no new owner of the name is refused
because of it; the audit counts dead keys and ``--fix`` removes them."""

import json
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from authfold.accounts.caseless import username_digest
from authfold.accounts.key_rows import orphan_keys
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import CaselessKey
from authfold.data_migrations.keys import sync_caseless_keys
from tests.factories import DEFAULT_PASSWORD, UserFactory

User = get_user_model()


@pytest.fixture
def delete_around_django(db):
    """DELETE a user's row in SQL: no signals, no Django cascade. MariaDB checks foreign keys at
    once, so there with the checks off, as its ``flush`` does; SQLite and PostgreSQL check them
    at commit, which a test never reaches."""
    table = connection.ops.quote_name(User._meta.db_table)
    mysql = connection.vendor == "mysql"

    def delete(user):
        with connection.cursor() as cursor:
            if mysql:
                cursor.execute("SET foreign_key_checks = 0")
            try:
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [user.pk])
            finally:
                if mysql:
                    cursor.execute("SET foreign_key_checks = 1")

    yield delete
    # Django's TestCase checks the deferred foreign keys before rolling back: leave none dangling.
    orphan_keys(CaselessKey, "default").delete()


def keys_for(username):
    return CaselessKey.objects.filter(username_digest=username_digest(username))


def audit_summary():
    out = StringIO()
    call_command("conflict_audit", "--format", "json", stdout=out)
    return json.loads(out.getvalue())["summary"]


def test_create_user_takes_a_name_whose_owner_was_deleted_by_raw_sql(delete_around_django):
    delete_around_django(UserFactory(username="maria"))

    maria = User.objects.create_user("Maria", "maria@example.com", DEFAULT_PASSWORD)

    assert list(keys_for("maria").values_list("user_id", flat=True)) == [maria.pk]


def test_a_rename_takes_a_name_whose_owner_was_deleted_by_raw_sql(delete_around_django):
    delete_around_django(UserFactory(username="maria"))
    bob = UserFactory(username="bob")

    bob.username = "MARIA"
    bob.save()

    assert list(keys_for("maria").values_list("user_id", flat=True)) == [bob.pk]


def test_a_live_owner_still_refuses_the_name_after_dead_keys_are_cleared(delete_around_django):
    delete_around_django(UserFactory(username="maria"))
    User.objects.create_user("Maria", "maria@example.com", DEFAULT_PASSWORD)

    with pytest.raises(CaselessConflict):
        User.objects.create_user("MARIA", "other@example.com", DEFAULT_PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_create_user_takes_a_name_emptied_by_a_transaction_test_case_flush():
    UserFactory(username="maria")
    # TransactionTestCase with available_apps flushes only those apps' tables; MariaDB truncates
    # auth_user with foreign key checks off, so the key row stays.
    apps.set_available_apps(["django.contrib.auth", "django.contrib.contenttypes"])
    try:
        call_command(
            "flush", verbosity=0, interactive=False, allow_cascade=True, inhibit_post_migrate=True
        )
    finally:
        apps.unset_available_apps()
    if connection.vendor == "mysql":
        assert orphan_keys(CaselessKey, "default").count() == 1

    maria = User.objects.create_user("Maria", "maria@example.com", DEFAULT_PASSWORD)

    assert list(keys_for("maria").values_list("user_id", flat=True)) == [maria.pk]


def test_audit_counts_dead_keys_and_a_keyless_user_beside_them(delete_around_django):
    UserFactory(username="amy")
    delete_around_django(UserFactory(username="maria"))
    # As many key rows as users, yet one user has none: the dead key stands in its place.
    User.objects.bulk_create([User(username="zed", email="zed@example.com")])

    summary = audit_summary()

    assert summary["orphan_keys"] == 1
    assert summary["users_without_key"] == 1


def test_audit_fix_removes_dead_keys_and_keys_the_keyless(delete_around_django):
    delete_around_django(UserFactory(username="maria"))
    User.objects.bulk_create([User(username="Maria", email="maria@example.com")])

    out = StringIO()
    call_command("conflict_audit", "--fix", "--no-input", stdout=out)

    assert "Deleted 1 caseless key row(s) whose user was gone." in out.getvalue()
    assert audit_summary()["orphan_keys"] == 0
    assert list(keys_for("maria").values_list("user__username", flat=True)) == ["Maria"]


def test_key_sync_before_enforcement_drops_dead_keys(delete_around_django):
    delete_around_django(UserFactory(username="maria"))

    sync_caseless_keys(User, CaselessKey, "default")

    assert not orphan_keys(CaselessKey, "default").exists()
