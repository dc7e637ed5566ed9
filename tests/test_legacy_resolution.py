"""On a legacy database with twins: the audit finds them, ``migrate`` resolves them exactly as
``--plan`` said, migrating back restores every username byte for byte, and forward again agrees."""

import json
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from authfold.accounts.caseless import username_digest
from authfold.accounts.management.commands import conflict_audit
from authfold.accounts.models import CaselessKey, RenameRecord
from tests.legacy import (
    EXPECTED_RENAMES,
    FAST_HASHERS,
    LEGACY_USERS,
    User,
    insert_legacy_users,
    migrate_accounts,
    password_of,
    usernames_by_id,
)

RESOLVED = "0002_resolve_username_conflicts"


@pytest.fixture
def legacy_database(transactional_db, settings):
    """Django's tables only (accounts migrated to zero), twins inserted; migrated forward after."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    migrate_accounts(None)
    try:
        yield insert_legacy_users()
    finally:
        migrate_accounts("latest")


def stored_username_digest(user_id):
    """The key row's username digest, read alone: at 0002 the table has no later columns yet."""
    keys = CaselessKey.objects.filter(user_id=user_id)
    return keys.values_list("username_digest", flat=True).get()


def audit(*args):
    out = StringIO()
    call_command("conflict_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def check_exit_status():
    try:
        audit("--check", "--format", "json")
    except SystemExit as exit:
        return exit.code
    return 0


def test_audit_of_a_legacy_database_reports_every_username_group(legacy_database):
    report = json.loads(audit("--format", "json"))
    groups = {
        group["key"]: sorted(user["username"] for user in group["users"])
        for group in report["username_conflicts"]
    }
    assert groups == {
        "bob": ["BOB", "bob"],
        "maria": ["MARIA", "Maria", "maria", "ＭＡＲＩＡ"],
        "strasse": ["STRASSE", "Straße"],
        "tie": ["TIE", "tie"],
        "x" * 150: ["X" * 150, "x" * 150],
        "джон": ["Джон", "джон"],
    }
    assert set(report["username_conflicts"][0]["users"][0]) == {
        "id",
        "username",
        "email",
        "is_active",
        "last_login",
        "date_joined",
    }


def test_audit_of_a_legacy_database_reports_shared_and_blank_emails(legacy_database):
    report = json.loads(audit("--format", "json"))
    assert [
        (group["key"], sorted(user["username"] for user in group["users"]))
        for group in report["email_conflicts"]
    ] == [("shared@example.com", ["istanbul", "İstanbul"])]
    assert sorted(user["username"] for user in report["blank_emails"]) == ["TIE", "tie"]
    summary = report["summary"]
    assert summary["users"] == len(LEGACY_USERS)
    assert summary["username_conflict_groups"] == 6
    assert summary["accounts_in_username_conflicts"] == 14
    assert summary["blank_emails"] == 2
    assert summary["unusable_passwords"] == 1
    assert summary["users_without_key"] == len(LEGACY_USERS)


def test_check_exits_1_on_a_legacy_database_with_twins(legacy_database):
    assert check_exit_status() == 1


def test_migrate_makes_exactly_the_renames_the_plan_showed(legacy_database):
    ids = legacy_database
    plan = json.loads(audit("--plan", "--format", "json"))["renames"]
    migrate_accounts(RESOLVED)
    made = [
        {"id": record.user_id, "old": record.old_username, "new": record.new_username}
        for record in RenameRecord.objects.order_by("id")
    ]
    assert made == plan
    assert {rename["old"]: rename["new"] for rename in plan} == EXPECTED_RENAMES
    assert all(ids[rename["old"]] == rename["id"] for rename in plan)


def test_after_migrate_every_account_logs_in_with_its_new_name_and_old_password(legacy_database):
    migrate_accounts(RESOLVED)
    assert User.objects.count() == len(LEGACY_USERS)
    for username, _email, active, *_ in LEGACY_USERS:
        if username == "nopassword":
            continue
        new_name = EXPECTED_RENAMES.get(username, username)
        if active:
            user = authenticate(username=new_name, password=password_of(username))
            assert user is not None and user.username == new_name, username
        else:
            # Inactive accounts stay refused by the backend; the password is still theirs.
            assert User.objects.get(username=new_name).check_password(password_of(username))


def test_after_migrate_no_twins_remain_and_check_exits_0(legacy_database):
    migrate_accounts(RESOLVED)
    assert json.loads(audit("--format", "json"))["username_conflicts"] == []
    assert check_exit_status() == 0


def test_migrate_updates_the_key_of_each_renamed_account(legacy_database):
    ids = legacy_database
    migrate_accounts(RESOLVED)
    for old, new in EXPECTED_RENAMES.items():
        assert stored_username_digest(ids[old]) == username_digest(new)


def test_migrating_back_restores_every_username_byte_for_byte(legacy_database):
    before = usernames_by_id()
    migrate_accounts(RESOLVED)
    assert usernames_by_id() != before
    migrate_accounts("0001_initial")
    after = usernames_by_id()
    assert after == before
    assert {pk: name.encode() for pk, name in after.items()} == {
        pk: name.encode() for pk, name in before.items()
    }
    assert all(record.reverted_at for record in RenameRecord.objects.all())


def test_migrating_forward_again_gives_the_same_result(legacy_database):
    migrate_accounts(RESOLVED)
    first = usernames_by_id()
    migrate_accounts("0001_initial")
    migrate_accounts(RESOLVED)
    assert usernames_by_id() == first


def test_audit_finds_twins_of_users_written_around_the_key_table(legacy_database, settings):
    # After 0001 every user has a key; bulk_create then adds twins that have none.
    migrate_accounts("0001_initial")
    insert_legacy_users(
        [
            ("mARIA", "late1@example.com", True, None, LEGACY_USERS[0][4]),
            ("newcomer", "late2@example.com", True, None, LEGACY_USERS[0][4]),
            ("NEWCOMER", "Late2@Example.com", True, None, LEGACY_USERS[0][4]),
        ]
    )
    report = json.loads(audit("--format", "json"))
    groups = {
        group["key"]: sorted(user["username"] for user in group["users"])
        for group in report["username_conflicts"]
    }
    assert groups["maria"] == ["MARIA", "Maria", "mARIA", "maria", "ＭＡＲＩＡ"]
    assert groups["newcomer"] == ["NEWCOMER", "newcomer"]
    assert ("late2@example.com", 2) in [
        (group["key"], len(group["users"])) for group in report["email_conflicts"]
    ]
    assert report["summary"]["users_without_key"] == 3


def test_fix_before_the_migrations_exits_2_and_changes_nothing(legacy_database):
    before = usernames_by_id()
    with pytest.raises(CommandError) as refused:
        audit("--fix", "--no-input")
    assert refused.value.returncode == 2
    assert usernames_by_id() == before


class Terminal(StringIO):
    def isatty(self):
        return True


def test_scan_draws_a_progress_bar_on_a_terminal(legacy_database, monkeypatch):
    monkeypatch.setattr(conflict_audit, "PROGRESS_BAR_FROM", 0)
    terminal = Terminal()
    call_command("conflict_audit", stdout=StringIO(), stderr=terminal)
    assert "users" in terminal.getvalue()


def test_scan_is_quiet_on_standard_error_when_it_is_not_a_terminal(legacy_database, monkeypatch):
    monkeypatch.setattr(conflict_audit, "PROGRESS_BAR_FROM", 0)
    pipe = StringIO()
    call_command("conflict_audit", stdout=StringIO(), stderr=pipe)
    assert pipe.getvalue() == ""


def test_migrate_prints_one_line_per_group_it_changed(legacy_database, capsys):
    migrate_accounts(RESOLVED)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 6
    assert "  Resolved 'bob': 'bob' (id" in lines[0] and "'BOB' (id" in lines[0]
    assert lines[0].endswith("-> 'BOB_3'")


def test_migrate_resolves_twins_inserted_after_the_key_table_was_filled(legacy_database):
    migrate_accounts("0001_initial")
    # Active, never logged in, joined first among those: the policy alone would rank it right
    # after the keeper; but it has no key row while its twins do, so it is renamed after them.
    ids = insert_legacy_users([("mARIA", "late@example.com", True, None, LEGACY_USERS[0][4])])
    migrate_accounts(RESOLVED)
    assert User.objects.get(pk=ids["mARIA"]).username == "mARIA_4"
    assert stored_username_digest(ids["mARIA"]) == username_digest("mARIA_4")
    assert check_exit_status() == 0
