"""``createsuperuser`` and ``changepassword`` (ours, listed before django.contrib.auth): a caseless
twin ends in a clean error or a new prompt, interactive and not, never a traceback."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from authfold.accounts.management.commands import createsuperuser
from tests.django_process import run_at_terminal, run_manage
from tests.factories import UserFactory
from tests.twins import bulk_users

User = get_user_model()
PASSWORD = "violet kettle orbit 42"
TAKEN = "Error: That username is already taken."


def test_our_commands_replace_djangos_when_listed_first():
    assert get_commands()["createsuperuser"] == "authfold.accounts"
    assert get_commands()["changepassword"] == "authfold.accounts"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["MARIA", "maria", "Ｍaria"])
def test_createsuperuser_noinput_refuses_a_caseless_twin(typed):
    UserFactory(username="maria")
    with pytest.raises(CommandError, match=TAKEN):
        call_command("createsuperuser", interactive=False, username=typed, email="a@example.com")
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_createsuperuser_noinput_refuses_a_twin_named_by_the_environment(monkeypatch):
    UserFactory(username="maria")
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "MARIA")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "a@example.com")
    with pytest.raises(CommandError, match=TAKEN):
        call_command("createsuperuser", interactive=False)
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_createsuperuser_noinput_creates_a_free_name():
    call_command(
        "createsuperuser", interactive=False, username="Root", email="a@example.com", verbosity=0
    )
    assert User.objects.get(username="Root").is_superuser


def test_createsuperuser_leaves_the_names_of_an_unkeyed_user_model_to_django(swapped_user_table):
    NamedUser = swapped_user_table("NamedUser")
    NamedUser.objects.create_user("Maria", PASSWORD)
    command = createsuperuser.Command()

    # Django's exact check alone: another case is free, the same spelling is taken.
    assert command._validate_username("MARIA", "username", "default") is None
    assert command._validate_username("Maria", "username", "default") == TAKEN


@pytest.mark.django_db
def test_createsuperuser_turns_a_twin_taken_after_the_check_into_a_command_error(monkeypatch):
    """Another process creates ``maria`` between our check and the save: the database refuses."""
    monkeypatch.setattr(
        createsuperuser.Command,
        "taken_in_any_case",
        lambda command, username, database: UserFactory(username="maria") and False,
    )
    with pytest.raises(CommandError, match="Usernames ignore case"):
        call_command("createsuperuser", interactive=False, username="MARIA", email="a@example.com")
    assert list(User.objects.values_list("username", flat=True)) == ["maria"]


@pytest.mark.django_db(transaction=True)
def test_interactive_createsuperuser_says_the_name_is_taken_and_asks_again(tmp_path):
    UserFactory(username="maria")
    code, shown = run_at_terminal(
        tmp_path,
        ["createsuperuser"],
        [
            ("Username", "MARIA"),
            ("Username", "root2"),
            ("Email address: ", "root2@example.com"),
            ("Password: ", PASSWORD),
            ("Password (again): ", PASSWORD),
        ],
    )
    assert code == 0, shown
    assert TAKEN in shown
    assert "Traceback" not in shown
    assert "Superuser created successfully." in shown
    assert sorted(User.objects.values_list("username", flat=True)) == ["maria", "root2"]


@pytest.mark.django_db(transaction=True)
def test_interactive_createsuperuser_refuses_a_twin_given_on_the_command_line(tmp_path):
    UserFactory(username="maria")
    code, shown = run_at_terminal(
        tmp_path,
        ["createsuperuser", "--username", "Maria"],
        [
            ("Username", "root2"),
            ("Email address: ", "root2@example.com"),
            ("Password: ", PASSWORD),
            ("Password (again): ", PASSWORD),
        ],
    )
    assert code == 0, shown
    assert TAKEN in shown
    assert User.objects.filter(username="root2").exists()


@pytest.mark.django_db(transaction=True)
def test_createsuperuser_noinput_in_a_child_process_ends_without_a_traceback(tmp_path):
    UserFactory(username="maria")
    finished = run_manage(
        tmp_path,
        "createsuperuser",
        "--noinput",
        DJANGO_SUPERUSER_USERNAME="MARIA",
        DJANGO_SUPERUSER_EMAIL="a@example.com",
    )
    assert finished.returncode == 1
    assert finished.stderr.strip() == f"CommandError: {TAKEN}"


@pytest.mark.django_db(transaction=True)
def test_changepassword_finds_the_account_by_any_case_of_its_name(tmp_path):
    UserFactory(username="Maria")
    code, shown = run_at_terminal(
        tmp_path,
        ["changepassword", "MARIA"],
        [("Password: ", PASSWORD), ("Password (again): ", PASSWORD)],
    )
    assert code == 0, shown
    assert "Password changed successfully for user 'Maria'" in shown
    assert User.objects.get(username="Maria").check_password(PASSWORD)


def test_changepassword_asks_for_the_exact_name_among_legacy_twins(accounts_migrator):
    """Before ``migrate`` (a rolling deploy), twins still share a name."""
    accounts_migrator.to("zero")
    bulk_users("maria", "Maria")
    with pytest.raises(CommandError, match="Several accounts .* Give the exact one"):
        call_command("changepassword", "MARIA")


@pytest.mark.django_db
def test_changepassword_reports_a_missing_account_as_django_does():
    with pytest.raises(CommandError, match="user 'nobody' does not exist"):
        call_command("changepassword", "nobody")


@pytest.mark.django_db(transaction=True)
def test_changepassword_of_a_legacy_twin_changes_only_its_password(tmp_path):
    """``Maria`` came in around ``save()`` while ``maria`` holds the name: a save that keeps the
    name claims nothing, so the password changes and the twin stays for ``conflict_audit``."""
    UserFactory(username="maria")
    bulk_users("Maria")
    code, shown = run_at_terminal(
        tmp_path,
        ["changepassword", "Maria"],
        [("Password: ", PASSWORD), ("Password (again): ", PASSWORD)],
    )
    assert code == 0, shown
    assert User.objects.get(username="Maria").check_password(PASSWORD)
    assert sorted(User.objects.values_list("username", flat=True)) == ["Maria", "maria"]


AUTHFOLD_LAST = (
    "INSTALLED_APPS = [app for app in INSTALLED_APPS if app != 'authfold.accounts']"
    " + ['authfold.accounts']\n"
)


def host_app_with_commands(tmp_path, *commands, listed_first=True):
    """A host app ``hostcommands`` (on the child's path) with management commands of its own,
    and the settings line that lists it first (or last)."""
    package = tmp_path / "hostcommands" / "management" / "commands"
    package.mkdir(parents=True)
    for folder in (package.parent.parent, package.parent, package):
        (folder / "__init__.py").write_text("")
    for name in commands:
        (package / f"{name}.py").write_text(
            f"from django.contrib.auth.management.commands.{name} import Command  # noqa: F401\n"
        )
    if listed_first:
        return "INSTALLED_APPS = ['hostcommands', *INSTALLED_APPS]\n"
    return "INSTALLED_APPS = [*INSTALLED_APPS, 'hostcommands']\n"


def test_system_check_warns_when_listed_after_contrib_auth(tmp_path):
    finished = run_manage(tmp_path, "check", settings_text=AUTHFOLD_LAST)
    assert "authfold.W002" in finished.stderr + finished.stdout
    assert "createsuperuser and changepassword are Django's own" in finished.stderr
    assert "Move 'authfold.accounts' above 'django.contrib.auth'" in finished.stderr


def test_system_check_leaves_a_host_app_s_own_user_commands_alone(tmp_path):
    host_first = host_app_with_commands(tmp_path, "createsuperuser", "changepassword")
    finished = run_manage(tmp_path, "check", settings_text=AUTHFOLD_LAST + host_first)
    assert finished.returncode == 0, finished.stderr
    assert "authfold.W002" not in finished.stderr + finished.stdout
    assert "authfold.W003" not in finished.stderr + finished.stdout


def test_system_check_warns_when_ours_hides_a_host_app_s_own_command(tmp_path):
    host_last = host_app_with_commands(tmp_path, "createsuperuser", listed_first=False)
    finished = run_manage(tmp_path, "check", settings_text=host_last)
    assert "authfold.W003" in finished.stderr
    assert "listed above 'hostcommands', so its createsuperuser is hidden" in finished.stderr
    assert "changepassword" not in finished.stderr
    assert "authfold.W002" not in finished.stderr


def test_system_check_names_only_the_command_that_is_django_s(tmp_path):
    host_first = host_app_with_commands(tmp_path, "createsuperuser")
    finished = run_manage(tmp_path, "check", settings_text=AUTHFOLD_LAST + host_first)
    assert "authfold.W002" in finished.stderr
    assert "changepassword is Django's own" in finished.stderr
    assert "createsuperuser" not in finished.stderr.split("HINT")[0]


@pytest.mark.django_db
def test_createsuperuser_with_an_email_the_database_keeps_unique_is_a_command_error():
    UserFactory(username="maria", email="maria@example.com")
    with pytest.raises(CommandError, match="Another account already uses this email address"):
        call_command(
            "createsuperuser", interactive=False, username="root", email="MARIA@example.com"
        )
    assert not User.objects.filter(username="root").exists()


EMAIL_TAKEN = "Another account already uses this email address"


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["MARIA@EXAMPLE.COM", "Maria@example.com"])
def test_createsuperuser_noinput_refuses_an_email_taken_in_any_case(typed):
    """Without the database's email constraint (AUTHFOLD_UNIQUE_EMAIL_CONSTRAINT off), too."""
    UserFactory(username="maria", email="maria@example.com")
    with pytest.raises(CommandError, match=EMAIL_TAKEN):
        call_command("createsuperuser", interactive=False, username="root", email=typed)
    assert not User.objects.filter(username="root").exists()


@pytest.mark.django_db(transaction=True)
def test_createsuperuser_noinput_with_a_taken_email_ends_without_a_traceback(tmp_path):
    UserFactory(username="maria", email="maria@example.com")
    finished = run_manage(
        tmp_path,
        "createsuperuser",
        "--noinput",
        DJANGO_SUPERUSER_USERNAME="root",
        DJANGO_SUPERUSER_EMAIL="MARIA@example.com",
    )
    assert finished.returncode == 1
    assert finished.stderr.strip().startswith(f"CommandError: {EMAIL_TAKEN}")
    assert not User.objects.filter(username="root").exists()


@pytest.mark.django_db(transaction=True)
def test_interactive_createsuperuser_says_the_email_is_taken_and_asks_again(tmp_path):
    UserFactory(username="maria", email="maria@example.com")
    code, shown = run_at_terminal(
        tmp_path,
        ["createsuperuser"],
        [
            ("Username", "root2"),
            ("Email address: ", "Maria@EXAMPLE.com"),
            ("Email address: ", "root2@example.com"),
            ("Password: ", PASSWORD),
            ("Password (again): ", PASSWORD),
        ],
    )
    assert code == 0, shown
    assert f"Error: {EMAIL_TAKEN}" in shown
    assert "Traceback" not in shown
    assert User.objects.get(username="root2").email == "root2@example.com"


@pytest.mark.django_db(transaction=True)
def test_interactive_createsuperuser_refuses_a_taken_email_given_on_the_command_line(tmp_path):
    UserFactory(username="maria", email="maria@example.com")
    code, shown = run_at_terminal(
        tmp_path, ["createsuperuser", "--username", "root2", "--email", "MARIA@example.com"], []
    )
    assert code == 1, shown
    assert f"CommandError: {EMAIL_TAKEN}" in shown
    assert "Traceback" not in shown
    assert not User.objects.filter(username="root2").exists()
