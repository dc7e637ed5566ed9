"""The optional email constraint: migration 0004 with AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT on."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import CaselessKey
from authfold.data_migrations.enforcement import EMAIL_INDEX_NAME, SharedEmailsRemain
from tests.factories import UserFactory

User = get_user_model()


def email_index_exists():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CaselessKey._meta.db_table)
    return EMAIL_INDEX_NAME in constraints


@pytest.fixture
def email_constraint_on(accounts_migrator):
    """The setting on and 0004 applied again; afterwards the index is gone, as the suite expects."""
    with override_settings(AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT=True):
        accounts_migrator.to("0003")
        yield accounts_migrator
    accounts_migrator.to("0003")
    call_command("migrate", "authfold", verbosity=0)


def test_with_the_setting_on_a_second_account_with_the_same_email_is_refused(email_constraint_on):
    email_constraint_on.to("0004")
    UserFactory(username="maria", email="Maria@Example.com")
    with pytest.raises(CaselessConflict) as refusal:
        UserFactory(username="john", email="MARIA@example.COM")
    assert refusal.value.field == "email"
    assert list(User.objects.values_list("username", flat=True)) == ["maria"]


def test_with_the_setting_on_changing_to_a_taken_email_is_refused(email_constraint_on):
    email_constraint_on.to("0004")
    UserFactory(username="maria", email="maria@example.com")
    other = UserFactory(username="john", email="john@example.com")
    other.email = "MARIA@example.com"
    with pytest.raises(CaselessConflict):
        other.save()
    assert User.objects.get(pk=other.pk).email == "john@example.com"


def test_with_the_setting_on_blank_emails_never_collide(email_constraint_on):
    email_constraint_on.to("0004")
    UserFactory(username="maria", email="")
    UserFactory(username="john", email="")
    assert User.objects.filter(email="").count() == 2


def test_the_email_migration_names_the_accounts_that_share_an_email(email_constraint_on):
    UserFactory(username="maria", email="shared@example.com")
    UserFactory(username="john", email="SHARED@example.com")
    UserFactory(username="bob", email="bob@example.com")
    with pytest.raises(SharedEmailsRemain) as refusal:
        email_constraint_on.to("0004")
    message = str(refusal.value)
    assert "'maria'" in message and "'john'" in message and "bob" not in message
    assert "conflict_audit" in message
    assert not email_index_exists()


def test_migrating_back_from_0004_drops_the_email_index(email_constraint_on):
    email_constraint_on.to("0004")
    assert email_index_exists()
    email_constraint_on.to("0003")
    assert not email_index_exists()


@pytest.mark.django_db
def test_with_the_setting_off_by_default_the_database_allows_shared_emails():
    """The default: emails are unique by validation only (forms, serializers, admin)."""
    assert not email_index_exists()
    UserFactory(username="maria", email="shared@example.com")
    UserFactory(username="john", email="SHARED@example.com")
    assert User.objects.count() == 2
