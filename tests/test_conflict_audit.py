"""``manage.py conflict_audit``: its report formats, ``--plan``, ``--fix`` and ``--check``."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from authfold.accounts.caseless import email_digest
from authfold.accounts.models import CaselessKey, RenameRecord
from tests.twins import User, allow_legacy_twins, bulk_users

pytestmark = pytest.mark.django_db


def audit(*args):
    out = StringIO()
    call_command("conflict_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_text_report_shows_each_username_group_as_a_table():
    _maria, twin = bulk_users("maria", "MARIA")
    report = audit()
    assert "Usernames shared by more than one account (in some case): 1 group(s)" in report
    assert "'maria'" in report
    assert any(line.split()[:2] == [str(twin.pk), "MARIA"] for line in report.splitlines())
    assert "username conflict groups:       1" in report


def test_text_report_says_when_nothing_clashes():
    User.objects.create_user("alone", "alone@example.com")
    assert "Usernames shared by more than one account (in some case): 0 group(s)" in audit()


def test_json_report_lists_shared_emails_in_any_case():
    bulk_users("ann", email="Ann@Example.com")
    bulk_users("bea", email="ann@example.COM")
    report = json.loads(audit("--format", "json"))
    assert [group["key"] for group in report["email_conflicts"]] == ["ann@example.com"]
    assert report["summary"]["accounts_sharing_email"] == 2


def test_csv_report_has_one_row_per_account_in_a_conflict_and_per_blank_email():
    bulk_users("maria", "Maria")
    bulk_users("blank", email="")
    rows = list(csv.DictReader(StringIO(audit("--format", "csv"))))
    assert [(row["section"], row["username"]) for row in rows] == [
        ("username_conflict", "Maria"),
        ("username_conflict", "maria"),
        ("blank_email", "blank"),
    ] or [(row["section"], row["username"]) for row in rows] == [
        ("username_conflict", "maria"),
        ("username_conflict", "Maria"),
        ("blank_email", "blank"),
    ]


def test_plan_lists_the_renames_without_making_them():
    _maria, twin = bulk_users("maria", "Maria")
    plan = json.loads(audit("--plan", "--format", "json"))
    assert plan == {"renames": [{"id": twin.pk, "old": "Maria", "new": "Maria_1"}]}
    assert User.objects.get(pk=twin.pk).username == "Maria"
    assert not RenameRecord.objects.exists()


def test_plan_as_csv_has_id_old_and_new():
    _maria, twin = bulk_users("maria", "Maria")
    assert audit("--plan", "--format", "csv") == f"id,old,new\n{twin.pk},Maria,Maria_1\n"


def test_fix_without_input_renames_the_twins_and_check_then_exits_0():
    _maria, twin = bulk_users("maria", "Maria")
    output = json.loads(audit("--fix", "--no-input", "--check", "--format", "json"))
    assert output == {"renames": [{"id": twin.pk, "old": "Maria", "new": "Maria_1"}]}
    assert User.objects.get(pk=twin.pk).username == "Maria_1"


def test_fix_gives_a_key_to_every_user_written_around_model_save():
    bulk_users("maria", "Maria", "solo")
    audit("--fix", "--no-input")
    assert CaselessKey.objects.count() == User.objects.count() == 3


def test_fix_finds_a_twin_made_by_a_rename_that_bypassed_model_save():
    User.objects.create_user("maria", "maria@example.com")
    bob = User.objects.create_user("bob", "bob@example.com")
    allow_legacy_twins()  # PostgreSQL's index (0008) would refuse the update itself
    User.objects.filter(pk=bob.pk).update(username="MARIA")  # bob's key still says "bob"
    audit("--fix", "--no-input")
    assert User.objects.get(pk=bob.pk).username == "MARIA_1"
    assert CaselessKey.objects.count() == 2
    assert "0 group(s)" in audit()


def test_fix_asks_first_and_changes_nothing_when_declined(monkeypatch):
    _maria, twin = bulk_users("maria", "Maria")
    monkeypatch.setattr("builtins.input", lambda: "n")
    with pytest.raises(CommandError) as refused:
        audit("--fix")
    assert refused.value.returncode == 2
    assert User.objects.get(pk=twin.pk).username == "Maria"


def test_fix_applies_when_confirmed(monkeypatch):
    _maria, twin = bulk_users("maria", "Maria")
    monkeypatch.setattr("builtins.input", lambda: "yes")
    audit("--fix")
    assert User.objects.get(pk=twin.pk).username == "Maria_1"


def test_check_exits_1_while_username_twins_exist():
    bulk_users("maria", "Maria")
    with pytest.raises(SystemExit) as exit:
        audit("--check")
    assert exit.value.code == 1


def test_check_exits_0_without_username_twins_even_with_shared_emails():
    User.objects.create_user("ann", "same@example.com")
    bea = User.objects.create_user("bea", "bea@example.com")
    # An address two accounts shared before migration 0007: bea's is grandfathered (no claim).
    User.objects.filter(pk=bea.pk).update(email="SAME@example.com")
    CaselessKey.objects.filter(user=bea).update(
        email_digest=email_digest("SAME@example.com"), email_claim=None
    )
    audit("--check")
