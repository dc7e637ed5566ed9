"""A process killed in the middle of a user's save leaves no way to a twin.

The save runs in a child process, killed with SIGKILL from a test-only execute wrapper at the
exact statement: right after the user's INSERT (or UPDATE) has returned, committed in
autocommit, before the next statement (its key); or just before it, once the name is reserved. Then this process tries
the twin, for real, on the same database.
"""

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.db import connection
from django.utils import timezone

from authfold.accounts.claim_settling import CLAIM_GRACE, clear_orphan_claims, orphan_claims
from authfold.accounts.keys import CaselessConflict, wanted_claims
from authfold.accounts.models import CaselessKey, IdentifierClaim
from tests.django_process import ROOT, child_environment
from tests.factories import DEFAULT_PASSWORD, UserFactory

User = get_user_model()
pytestmark = pytest.mark.django_db(transaction=True)

SPELLINGS = ["crashy", "Crashy", "CRASHY", "ＣＲＡＳＨＹ"]

# Run in the child: {when} is "after" or "before", {verb} "INSERT" or "UPDATE", then the save.
KILLED_SAVE = """
import os, signal
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection

User = get_user_model()
user_written = []

def writes_user_table(sql):
    statement = sql.lstrip()[:200].upper()
    return statement.startswith(("INSERT", "UPDATE")) and User._meta.db_table.upper() in statement

def kill_at_the_user_write(execute, sql, params, many, context):
    # "after": at the next statement, once the write has returned (and SQLite's INSERT ...
    # RETURNING has been read to its end, which is when SQLite commits it).
    if user_written:
        os.kill(os.getpid(), signal.SIGKILL)
    hit = writes_user_table(sql) and sql.lstrip().upper().startswith({verb!r})
    if hit and {when!r} == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    result = execute(sql, params, many, context)
    if hit:
        user_written.append(sql)
    return result

with connection.execute_wrapper(kill_at_the_user_write):
{save}
print("not killed")
"""

CREATE = '    User.objects.create_user("Crashy", "crashy@example.org", {password!r})'
RENAME = """    user = User.objects.get(username="renamer")
    user.username = "Crashy"
    user.save()"""


def run_child(tmp_path, script):
    """Run ``script`` in a Python process of its own, on this test's database."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=child_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def killed_save(tmp_path, save, verb, when="after"):
    """Run ``save`` in a child process that SIGKILLs itself at the user's ``verb``."""
    script = KILLED_SAVE.format(verb=verb, when=when, save=save.format(password=DEFAULT_PASSWORD))
    child = run_child(tmp_path, script)
    assert child.returncode == -signal.SIGKILL, (child.returncode, child.stdout, child.stderr)


def age_unfinished_claims():
    unfinished_claims().update(created_at=timezone.now() - CLAIM_GRACE - timedelta(1))


def unfinished_claims():
    return IdentifierClaim.objects.filter(user=None)


def assert_every_spelling_logs_in_to(user):
    for spelling in SPELLINGS:
        assert authenticate(None, username=spelling, password=DEFAULT_PASSWORD) == user, spelling


def test_a_sign_up_killed_after_its_insert_leaves_no_way_to_a_twin(tmp_path):
    killed_save(tmp_path, CREATE, "INSERT")
    crashed = User.objects.get(username="Crashy")
    assert not CaselessKey.objects.filter(user=crashed).exists()  # killed before its key
    assert unfinished_claims().filter(source="Crashy").exists()
    with pytest.raises(CaselessConflict) as refusal:
        User.objects.create_user("CRASHY", "other@example.org")
    assert refusal.value.field == "username"
    assert list(User.objects.values_list("username", flat=True)) == ["Crashy"]
    assert not unfinished_claims().exists()
    assert_every_spelling_logs_in_to(crashed)


def test_a_sign_up_killed_after_its_insert_is_repaired_however_long_ago(tmp_path):
    killed_save(tmp_path, CREATE, "INSERT")
    age_unfinished_claims()
    with pytest.raises(CaselessConflict):
        User.objects.create_user("crashy", "other@example.org")
    assert User.objects.count() == 1


def test_a_rename_killed_after_its_update_leaves_no_way_to_a_twin(tmp_path):
    renamed = UserFactory(username="renamer", password=DEFAULT_PASSWORD)
    killed_save(tmp_path, RENAME, "UPDATE")
    assert User.objects.get(pk=renamed.pk).username == "Crashy"
    with pytest.raises(CaselessConflict) as refusal:
        User.objects.create_user("CRASHY", "other@example.org")
    assert refusal.value.field == "username"
    assert User.objects.count() == 1
    assert_every_spelling_logs_in_to(renamed)


def test_the_old_name_of_a_rename_killed_before_its_update_stays_taken(tmp_path):
    """The key is written after the row: a crash before the row leaves the old name held."""
    UserFactory(username="renamer")
    killed_save(tmp_path, RENAME, "UPDATE", when="before")
    with pytest.raises(CaselessConflict):
        User.objects.create_user("RENAMER", "other@example.org")


def test_a_name_whose_sign_up_died_before_its_insert_is_refused_only_for_a_while(tmp_path):
    killed_save(tmp_path, CREATE, "INSERT", when="before")
    assert not User.objects.exists()
    with pytest.raises(CaselessConflict):
        User.objects.create_user("CRASHY", "other@example.org")  # could be a sign-up under way
    age_unfinished_claims()
    user = User.objects.create_user("CRASHY", "other@example.org")
    assert CaselessKey.objects.filter(user=user).exists()
    assert not unfinished_claims().exists()


def test_clearing_orphan_claims_repairs_the_key_the_crash_left_out(tmp_path):
    killed_save(tmp_path, CREATE, "INSERT")
    assert not orphan_claims("default").exists()  # too young to call dead
    age_unfinished_claims()
    assert {c.source for c in orphan_claims("default")} == {"Crashy", "crashy@example.org"}
    assert clear_orphan_claims("default") == len(wanted_claims("Crashy", "crashy@example.org"))
    assert not unfinished_claims().exists()
    assert_every_spelling_logs_in_to(User.objects.get(username="Crashy"))


def test_the_killed_child_really_ran_our_receivers(tmp_path):
    """Guard for the tests above: without the kill, the child's save completes with its key."""
    script = KILLED_SAVE.format(verb="NONE", when="after", save=CREATE.format(password="x"))
    child = run_child(tmp_path, script)
    assert child.stdout.strip() == "not killed", child.stderr
    assert CaselessKey.objects.filter(user__username="Crashy").exists()
    assert not unfinished_claims().exists()
    assert os.path.exists(tmp_path / "child_settings.py")


def test_the_audit_counts_orphan_claims_and_fix_settles_them(tmp_path):
    import json
    from io import StringIO

    from django.core.management import call_command

    killed_save(tmp_path, CREATE, "INSERT")
    age_unfinished_claims()
    out = StringIO()
    call_command("conflict_audit", "--format", "json", stdout=out)
    orphans = json.loads(out.getvalue())["summary"]["orphan_claims"]
    assert orphans == len(wanted_claims("Crashy", "crashy@example.org"))
    call_command("conflict_audit", "--fix", "--no-input", stdout=StringIO())
    assert not unfinished_claims().exists()
    assert CaselessKey.objects.filter(user__username="Crashy").exists()


def test_a_name_whose_owner_was_deleted_around_django_is_free_again():
    gone = UserFactory(username="gone", email="gone@example.org")
    with connection.cursor() as cursor:
        for table, column in [(CaselessKey._meta.db_table, "user_id"), (User._meta.db_table, "id")]:
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [gone.pk])
    user = User.objects.create_user("GONE", "GONE@example.org")
    assert set(IdentifierClaim.objects.values_list("user_id", flat=True)) == {user.pk}
