"""``createsuperuser`` and ``changepassword`` with a caseless twin end in a command error (what
``manage.py`` prints as one line and exit status 1), never a traceback."""

import getpass
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.people import legacy_users

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_createsuperuser_refuses_a_caseless_twin_with_a_command_error(make_user):
    make_user("maria")
    with pytest.raises(CommandError):
        call_command(
            "createsuperuser", interactive=False, username="MARIA", email="boss@example.com"
        )
    assert not User.objects.filter(email="boss@example.com").exists()


def test_createsuperuser_refuses_a_unicode_caseless_twin_with_a_command_error(make_user):
    make_user("Straße")
    with pytest.raises(CommandError):
        call_command(
            "createsuperuser", interactive=False, username="STRASSE", email="boss@example.com"
        )
    assert not User.objects.filter(email="boss@example.com").exists()


def test_changepassword_finds_the_account_by_any_case_of_its_name(make_user, monkeypatch):
    maria = make_user("Maria")
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "a new password 42")
    call_command("changepassword", "MARIA", stdout=StringIO())
    maria.refresh_from_db()
    assert maria.check_password("a new password 42")


@pytest.mark.django_db(transaction=True)
def test_changepassword_names_the_legacy_twins_it_cannot_choose_between():
    # Runbook step 3: the code is deployed before `migrate`, so the legacy twins are still there.
    call_command("migrate", "authfold", "zero", verbosity=0)
    try:
        legacy_users("maria", "Maria")
        with pytest.raises(CommandError) as refusal:
            call_command("changepassword", "MARIA")
    finally:
        call_command("migrate", verbosity=0)
    assert "maria" in str(refusal.value)
    assert "Maria" in str(refusal.value)
