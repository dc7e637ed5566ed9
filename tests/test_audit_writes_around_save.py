"""``conflict_audit`` sees what writes around ``Model.save()`` leave behind (``update()``,
``bulk_create``, raw SQL), which SQLite and MariaDB cannot refuse: twins, missing and stale keys;
``--fix`` keeps the name with the account that held its key."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from authfold.accounts.caseless import email_digest, username_digest
from authfold.accounts.models import CaselessKey, RenameRecord
from tests.twins import User, allow_legacy_twins

pytestmark = pytest.mark.django_db


def audit(*args):
    out = StringIO()
    call_command("conflict_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def check_status():
    try:
        audit("--check")
    except SystemExit as exit:
        return exit.code
    return 0


def summary():
    return json.loads(audit("--format", "json"))["summary"]


def insert_raw(username, email, joined):
    """A user written with raw SQL, as an import script would: no key row."""
    table = connection.ops.quote_name(User._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(column)
        for column in (
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            ["!", False, username, "", "", email, False, True, joined],
        )
    return User.objects.get(username=username)


def twin_by_update():
    """``maria`` through ``create_user``, and ``bob`` renamed ``MARIA`` with ``update()``: bob's
    key row still holds the digest of ``bob``. On PostgreSQL the expression index (0008) refuses
    such a write: there the twin is legacy data from before it."""
    allow_legacy_twins()
    maria = User.objects.create_user("maria", "maria@example.com")
    bob = User.objects.create_user("bob", "bob@example.com")
    User.objects.filter(pk=bob.pk).update(username="MARIA")
    return maria, bob


def test_check_exits_1_for_a_twin_made_by_update():
    twin_by_update()
    assert check_status() == 1


def test_report_and_plan_show_the_twin_made_by_update():
    maria, bob = twin_by_update()
    report = json.loads(audit("--format", "json"))
    assert [[user["id"] for user in group["users"]] for group in report["username_conflicts"]] == [
        [maria.pk, bob.pk]
    ]
    assert report["summary"]["stale_keys"] == 1
    plan = json.loads(audit("--plan", "--format", "json"))
    assert plan == {"renames": [{"id": bob.pk, "old": "MARIA", "new": "MARIA_1"}]}


def test_check_exits_1_for_a_user_inserted_by_bulk_create_without_a_key():
    User.objects.create_user("maria", "maria@example.com")
    User.objects.bulk_create([User(username="solo", email="solo@example.com")])
    assert summary()["users_without_key"] == 1
    assert check_status() == 1


def test_check_exits_1_for_a_user_inserted_by_raw_sql_without_a_key():
    insert_raw("solo", "solo@example.com", timezone.now())
    assert summary()["users_without_key"] == 1
    assert check_status() == 1


def test_check_exits_1_for_a_key_whose_email_digest_no_longer_matches():
    user = User.objects.create_user("maria", "maria@example.com")
    User.objects.filter(pk=user.pk).update(email="other@example.com")
    assert summary()["stale_keys"] == 1
    assert check_status() == 1


def test_check_exits_1_for_a_key_whose_username_digest_no_longer_matches():
    user = User.objects.create_user("maria", "maria@example.com")
    User.objects.filter(pk=user.pk).update(username="zed")
    assert summary()["stale_keys"] == 1
    assert check_status() == 1


def test_check_exits_0_when_every_key_matches_its_user():
    User.objects.create_user("maria", "maria@example.com")
    User.objects.create_user("blank", "")
    assert summary()["stale_keys"] == summary()["users_without_key"] == 0
    assert check_status() == 0


def test_fix_keeps_the_name_with_the_holder_of_its_key_against_a_raw_insert_joined_earlier():
    allow_legacy_twins()
    maria = User.objects.create_user("maria", "maria@example.com")
    # The policy alone would keep the earliest joined: the row written around the rule.
    back_dated = insert_raw("MARIA", "raw@example.com", timezone.now() - timedelta(days=3650))
    audit("--fix", "--no-input")
    assert User.objects.get(pk=maria.pk).username == "maria"
    assert User.objects.get(pk=back_dated.pk).username == "MARIA_1"
    assert "held the name's key" in RenameRecord.objects.get(user_id=back_dated.pk).reason
    assert check_status() == 0


def test_fix_keeps_the_name_with_the_holder_of_its_key_against_an_update_twin_that_logged_in_later():
    maria, bob = twin_by_update()
    # The policy alone would keep the most recent login: the account renamed around the rule.
    User.objects.filter(pk=bob.pk).update(last_login=timezone.now())
    audit("--fix", "--no-input")
    assert User.objects.get(pk=maria.pk).username == "maria"
    assert User.objects.get(pk=bob.pk).username == "MARIA_1"
    assert CaselessKey.objects.get(user_id=bob.pk).username_digest == username_digest("MARIA_1")
    assert check_status() == 0


def test_fix_repairs_missing_and_stale_keys():
    user = User.objects.create_user("maria", "maria@example.com")
    User.objects.filter(pk=user.pk).update(username="zed", email="zed@example.com")
    User.objects.bulk_create([User(username="solo", email="solo@example.com")])
    audit("--fix", "--no-input")
    assert CaselessKey.objects.get(user_id=user.pk).username_digest == username_digest("zed")
    assert CaselessKey.objects.get(user_id=user.pk).email_digest == email_digest("zed@example.com")
    assert CaselessKey.objects.filter(user__username="solo").exists()
    assert check_status() == 0
