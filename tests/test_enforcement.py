"""After migration 0003 the database itself refuses caseless twins, on every Model.save()."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import CaselessKey
from authfold.data_migrations.enforcement import TwinsRemain
from tests.factories import UserFactory

User = get_user_model()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "twin"), [("maria", "MARIA"), ("Straße", "STRASSE"), ("Джон", "джон")]
)
def test_creating_a_caseless_twin_is_refused_inside_a_transaction(first, twin):
    User.objects.create_user(first, f"{first}@example.com")
    with pytest.raises(CaselessConflict) as refusal, transaction.atomic():
        User.objects.create_user(twin, "twin@example.com")
    assert refusal.value.field == "username"
    assert list(User.objects.values_list("username", flat=True)) == [first]


@pytest.mark.django_db(transaction=True)
def test_creating_a_caseless_twin_is_refused_in_autocommit_and_leaves_one_row():
    User.objects.create_user("maria", "maria@example.com")
    with pytest.raises(CaselessConflict):
        User.objects.create_user("Maria", "other@example.com")
    assert list(User.objects.values_list("username", flat=True)) == ["maria"]
    assert CaselessKey.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_renaming_into_a_caseless_twin_is_refused_and_changes_nothing():
    UserFactory(username="maria")
    other = UserFactory(username="john")
    other.username = "MARIA"
    with pytest.raises(CaselessConflict):
        other.save()
    other.refresh_from_db()
    assert other.username == "john"


@pytest.mark.django_db
def test_a_refusal_is_an_integrity_error_for_code_that_handles_those():
    UserFactory(username="maria")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="MARIA")


@pytest.mark.django_db
def test_an_account_may_change_the_case_of_its_own_username():
    user = UserFactory(username="maria")
    user.username = "Maria"
    user.save()
    assert User.objects.get().username == "Maria"


def test_enforcement_migration_names_the_twins_and_the_fix(accounts_migrator):
    accounts_migrator.to("0002")
    User.objects.bulk_create([User(username="maria"), User(username="MARIA"), User(username="bob")])
    with pytest.raises(TwinsRemain) as refusal:
        accounts_migrator.to("0003")
    message = str(refusal.value)
    assert "'maria'" in message and "'MARIA'" in message
    assert "conflict_audit --fix" in message
    assert "bob" not in message
    User.objects.filter(username="MARIA").delete()
    accounts_migrator.to("0003")
    assert CaselessKey.objects.count() == 2


def test_enforcement_migration_leaves_no_half_built_index_after_refusing(accounts_migrator):
    accounts_migrator.to("0002")
    User.objects.bulk_create([User(username="maria"), User(username="Maria")])
    with pytest.raises(TwinsRemain):
        accounts_migrator.to("0003")
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CaselessKey._meta.db_table)
    assert "authfold_caselesskey_username_digest_unique" not in constraints
    User.objects.filter(username="Maria").delete()
