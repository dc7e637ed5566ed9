"""Emails unique at the database by default (``email_claim``, migration 0007), legacy shared
addresses grandfathered; and the way forward for installations that ran the former optional 0004."""

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.db import connection, transaction
from django.test import override_settings

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import CaselessKey
from authfold.data_migrations.email_claims import CLAIM_INDEX_NAME, grandfathered_email_groups
from authfold.data_migrations.enforcement import EMAIL_INDEX_NAME, ensure_unique_index
from tests.factories import UserFactory

User = get_user_model()


def index_exists(name):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CaselessKey._meta.db_table)
    return name in constraints


@pytest.mark.django_db
def test_a_second_account_with_the_same_email_in_any_case_is_refused_with_no_setting():
    UserFactory(username="maria", email="Maria@Example.com")
    with pytest.raises(CaselessConflict) as refusal:
        UserFactory(username="john", email="MARIA@example.COM")
    assert refusal.value.field == "email"
    assert list(User.objects.values_list("username", flat=True)) == ["maria"]


@pytest.mark.django_db(transaction=True)
def test_changing_to_a_taken_email_is_refused_and_the_row_keeps_its_address():
    UserFactory(username="maria", email="maria@example.com")
    other = UserFactory(username="john", email="john@example.com")
    other.email = "MARIA@example.com"
    with pytest.raises(CaselessConflict) as refusal:
        other.save()
    assert refusal.value.field == "email"
    assert User.objects.get(pk=other.pk).email == "john@example.com"


@pytest.mark.django_db
def test_changing_to_a_taken_email_inside_a_transaction_is_refused():
    UserFactory(username="maria", email="maria@example.com")
    other = UserFactory(username="john", email="john@example.com")
    other.email = "Maria@Example.com"
    with pytest.raises(CaselessConflict), transaction.atomic():
        other.save()
    assert User.objects.get(pk=other.pk).email == "john@example.com"


@pytest.mark.django_db
def test_blank_emails_never_collide():
    UserFactory(username="maria", email="")
    UserFactory(username="john", email="")
    assert User.objects.filter(email="").count() == 2


@pytest.fixture
def legacy_shared_emails(accounts_migrator):
    """A database at 0005, before emails were claimed, where three accounts share one address,
    migrated to the latest schema."""
    accounts_migrator.to("0005")
    users = [
        UserFactory(username="maria", email="shared@example.com"),
        UserFactory(username="john", email="SHARED@example.com"),
        UserFactory(username="bob", email="Shared@Example.com"),
        UserFactory(username="ana", email="ana@example.com"),
    ]
    accounts_migrator.to("latest")
    return users


def test_a_legacy_database_with_shared_emails_migrates_and_keeps_them(legacy_shared_emails):
    maria, john, bob, ana = legacy_shared_emails
    assert index_exists(CLAIM_INDEX_NAME)
    assert list(User.objects.order_by("pk").values_list("email", flat=True)) == [
        "shared@example.com",
        "SHARED@example.com",
        "Shared@Example.com",
        "ana@example.com",
    ]
    groups = grandfathered_email_groups(User, CaselessKey, "default")
    assert groups == [
        [
            (maria.pk, "maria", "shared@example.com", False),
            (john.pk, "john", "SHARED@example.com", True),
            (bob.pk, "bob", "Shared@Example.com", True),
        ]
    ]


def test_no_new_account_may_join_a_grandfathered_address(legacy_shared_emails):
    with pytest.raises(CaselessConflict) as refusal:
        UserFactory(username="newcomer", email="sHaReD@example.com")
    assert refusal.value.field == "email"


def test_no_changed_email_may_join_a_grandfathered_address(legacy_shared_emails):
    ana = legacy_shared_emails[3]
    ana.email = "SHARED@EXAMPLE.COM"
    with pytest.raises(CaselessConflict):
        ana.save()
    assert User.objects.get(pk=ana.pk).email == "ana@example.com"


def test_a_grandfathered_account_saves_and_renames_freely_while_it_keeps_its_address(
    legacy_shared_emails,
):
    john = legacy_shared_emails[1]
    john.first_name = "John"
    john.username = "johnny"
    john.save()
    assert User.objects.get(pk=john.pk).username == "johnny"
    assert CaselessKey.objects.get(user=john).email_claim is None


def test_changing_a_grandfathered_address_releases_its_grandfathering(legacy_shared_emails):
    john = legacy_shared_emails[1]
    john.email = "john@example.com"
    john.save()
    assert CaselessKey.objects.get(user=john).email_claim is not None
    john.email = "shared@example.com"
    with pytest.raises(CaselessConflict):
        john.save()
    assert [pk for pk, *_ in grandfathered_email_groups(User, CaselessKey, "default")[0]] == [
        legacy_shared_emails[0].pk,
        legacy_shared_emails[2].pk,
    ]


def test_an_installation_that_ran_0004_with_the_setting_on_migrates_forward(accounts_migrator):
    """Up to 0005, 0004 built a unique email_digest index when the setting was on."""
    accounts_migrator.to("0005")
    with connection.schema_editor(atomic=False) as editor:
        ensure_unique_index(editor, CaselessKey._meta.db_table, "email_digest", EMAIL_INDEX_NAME)
    UserFactory(username="maria", email="maria@example.com")
    accounts_migrator.to("latest")
    assert not index_exists(EMAIL_INDEX_NAME)
    assert index_exists(CLAIM_INDEX_NAME)
    with pytest.raises(CaselessConflict):
        UserFactory(username="john", email="MARIA@example.com")


def test_an_installation_that_ran_0004_with_the_setting_off_migrates_forward(accounts_migrator):
    accounts_migrator.to("0005")
    UserFactory(username="maria", email="maria@example.com")
    accounts_migrator.to("0007")
    assert index_exists(CLAIM_INDEX_NAME)
    assert CaselessKey.objects.values_list("email_claim", flat=True).get() is not None


def test_migrating_back_to_0003_drops_every_email_index(accounts_migrator):
    accounts_migrator.to("0005")
    with connection.schema_editor(atomic=False) as editor:
        ensure_unique_index(editor, CaselessKey._meta.db_table, "email_digest", EMAIL_INDEX_NAME)
    accounts_migrator.to("0007")
    accounts_migrator.to("0003")
    assert not index_exists(EMAIL_INDEX_NAME)
    assert not index_exists(CLAIM_INDEX_NAME)


@pytest.mark.parametrize("value", [True, False])
def test_the_obsolete_email_setting_is_warned_about_whatever_its_value(value):
    with override_settings(AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT=value):
        warnings = [m for m in checks.run_checks() if m.id == "authfold.W004"]
    assert len(warnings) == 1
    assert "0007" in warnings[0].msg


def test_no_warning_without_the_obsolete_email_setting():
    assert not [m for m in checks.run_checks() if m.id == "authfold.W004"]


@pytest.mark.django_db
def test_backfill_claims_a_bulk_created_users_email_and_grandfathers_a_shared_one():
    from authfold.data_migrations.keys import backfill_caseless_keys

    UserFactory(username="maria", email="maria@example.com")
    own, sharing = User.objects.bulk_create(
        [
            User(username="ana", email="ana@example.com"),
            User(username="bo", email="MARIA@example.com"),
        ]
    )
    assert backfill_caseless_keys(User, CaselessKey, "default") == 2
    assert CaselessKey.objects.get(user=own).email_claim is not None
    assert CaselessKey.objects.get(user=sharing).email_claim is None  # listed as grandfathered


@pytest.mark.django_db
def test_refreshing_a_stale_key_claims_the_address_an_update_wrote():
    from authfold.accounts.management.commands.conflict_audit import repair_keys

    user = UserFactory(username="ana", email="ana@example.com")
    User.objects.filter(pk=user.pk).update(email="new@example.com")
    repair_keys("default")
    key = CaselessKey.objects.get(user=user)
    assert key.email_claim == key.email_digest
    with pytest.raises(CaselessConflict):
        UserFactory(username="bo", email="NEW@example.com")


def audit(*args):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("conflict_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_audit_lists_the_grandfathered_addresses_and_who_holds_each(legacy_shared_emails):
    import json

    maria, john, bob, _ana = legacy_shared_emails
    report = json.loads(audit("--format", "json"))
    assert [
        [(account["id"], account["grandfathered"]) for account in group]
        for group in report["grandfathered_emails"]
    ] == [[(maria.pk, False), (john.pk, True), (bob.pk, True)]]
    assert report["summary"]["grandfathered_email_groups"] == 1
    text = audit()
    assert "Emails shared before migration 0007 (grandfathered): 1 group(s)" in text
    assert "holds the address" in text
    rows = audit("--format", "csv").splitlines()
    assert f"grandfathered_email_holder,,{maria.pk},maria,shared@example.com,,," in rows
    assert f"grandfathered_email,,{john.pk},john,SHARED@example.com,,," in rows
