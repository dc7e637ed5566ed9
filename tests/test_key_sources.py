"""Key rows keep the username and email they were computed from, so ``conflict_audit`` trusts
the rows that still match their user with one join and computes keys only for the others."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from authfold.accounts.models import CaselessKey
from authfold.data_migrations.detection import Survey
from authfold.data_migrations.keys import fill_key_sources
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def survey():
    return Survey(User, CaselessKey, "default")


def audit_summary():
    out = StringIO()
    try:
        call_command("conflict_audit", "--format", "json", stdout=out, stderr=StringIO())
    except SystemExit:
        pass
    return json.loads(out.getvalue())["summary"]


def sources(user):
    return tuple(
        CaselessKey.objects.filter(user=user).values_list("username_source", "email_source").get()
    )


def test_a_saved_user_key_row_keeps_the_texts_its_digests_came_from():
    user = User.objects.create_user("Maria", "Maria@example.com", "pw")
    assert sources(user) == ("Maria", "Maria@example.com")
    user.username = "Mária"
    user.save()
    assert sources(user) == ("Mária", "Maria@example.com")


def test_the_audit_reads_in_python_only_the_users_whose_key_row_does_not_vouch_for_itself():
    UserFactory.create_batch(6)
    renamed = UserFactory(username="jose")
    User.objects.filter(pk=renamed.pk).update(username="josé")
    check = survey().check()
    assert check.read == 1
    assert (check.users, check.keyed, check.stale) == (7, 7, 1)


def test_a_case_changed_through_save_is_read_and_found_in_step():
    user = UserFactory(username="maria")
    user.username = "MARIA"
    user.save()
    check = survey().check()
    assert (check.read, check.stale) == (1, 0)


@pytest.mark.parametrize(
    "old, new",
    [
        ("jose", "josé"),  # equal under an accent-insensitive collation
        ("maria", "maria "),  # equal under a PAD SPACE collation, MariaDB's utf8mb4_bin included
    ],
)
def test_a_rename_around_save_that_a_collation_would_call_equal_is_a_stale_key(old, new):
    user = UserFactory(username=old)
    User.objects.filter(pk=user.pk).update(username=new)
    assert audit_summary()["stale_keys"] == 1


def test_an_email_changed_around_save_is_a_stale_key():
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(email="someone.else@example.com")
    assert audit_summary()["stale_keys"] == 1


def test_a_blank_email_and_a_grandfathered_address_are_still_reported():
    blank = UserFactory(email="")
    holder = UserFactory(email="shared@example.com")
    extra = UserFactory(email="other@example.com")
    # An address shared before its claims existed: the extra holds no claim on it.
    User.objects.filter(pk=extra.pk).update(email="SHARED@example.com")
    CaselessKey.objects.filter(user=extra).update(
        email_digest=CaselessKey.objects.get(user=holder).email_digest,
        email_claim=None,
        email_source="SHARED@example.com",
    )
    check = survey().check()
    assert list(check.blank_emails) == [blank.pk]
    [group] = survey().email_conflicts()
    assert [account.id for account in group.accounts] == [holder.pk, extra.pk]


def test_filling_the_sources_skips_a_row_that_no_longer_matches_its_user():
    kept, renamed = UserFactory.create_batch(2)
    CaselessKey.objects.update(username_source=None, email_source=None)
    User.objects.filter(pk=renamed.pk).update(username="renamed-around-save")
    assert fill_key_sources(CaselessKey, "default") == 1
    assert sources(kept) == (kept.username, kept.email)
    assert sources(renamed) == (None, None)
    assert audit_summary()["stale_keys"] == 1
    assert fill_key_sources(CaselessKey, "default") == 0


def key_table_columns():
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(cursor, CaselessKey._meta.db_table)
    return {column.name for column in table}


def test_migration_0014_killed_after_its_columns_runs_again_and_reverses(accounts_migrator):
    accounts_migrator.to("0014")
    user = UserFactory()
    CaselessKey.objects.update(username_source=None, email_source=None)
    # Killed after adding the columns, before filling them: not recorded as applied.
    MigrationRecorder(connection).record_unapplied("authfold", "0014_caselesskey_sources")
    accounts_migrator.to("latest")
    assert sources(user) == (user.username, user.email)
    accounts_migrator.to("0013")
    assert "username_source" not in key_table_columns()
    accounts_migrator.to("latest")
    assert sources(user) == (user.username, user.email)
