"""Legacy twins in the host's data before the adoption: ``migrate`` keeps the name for one of them,
renames the other and writes down the rename."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authfold.accounts.models import RenameRecord
from tests.people import PASSWORD, legacy_users

KEEPERS_PASSWORD = "the keeper's own password"

User = get_user_model()


def adopt_with_legacy_twins():
    """As before the adoption (none of authfold's tables; ``maria``, who logged in lately, and her
    twin ``Maria``, each with a password of their own), then ``migrate``."""
    call_command("migrate", "authfold", "zero", verbosity=0)
    try:
        (maria,) = legacy_users("maria", password=KEEPERS_PASSWORD)
        (twin,) = legacy_users("Maria")
        User.objects.filter(pk=maria.pk).update(last_login=timezone.now())
        User.objects.filter(pk=twin.pk).update(last_login=timezone.now() - timedelta(days=400))
    finally:
        call_command("migrate", verbosity=0)
    return maria, twin


@pytest.mark.django_db(transaction=True)
def test_migrate_renames_the_legacy_twin_that_loses_and_records_the_rename():
    maria, twin = adopt_with_legacy_twins()
    maria.refresh_from_db()
    twin.refresh_from_db()
    assert (maria.username, twin.username) == ("maria", "Maria_1")
    record = RenameRecord.objects.get()
    assert (record.user_id, record.old_username, record.new_username) == (
        twin.pk,
        "Maria",
        "Maria_1",
    )


@pytest.mark.django_db(transaction=True)
def test_the_renamed_twin_still_logs_in_on_the_hosts_page_with_its_old_spelling(client):
    maria, twin = adopt_with_legacy_twins()
    response = client.post(reverse("accounts:login"), {"username": "Maria", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(twin.pk)


@pytest.mark.django_db(transaction=True)
def test_the_hosts_login_page_tells_the_renamed_twin_its_new_name(client):
    adopt_with_legacy_twins()
    response = client.post(
        reverse("accounts:login"), {"username": "Maria", "password": PASSWORD}, follow=True
    )
    [message] = response.context["messages"]
    assert message.level_tag == "warning"
    assert "it is now “Maria_1”" in str(message)


def adopt_with_a_twin_group():
    """As before the adoption, ``maria`` (who logged in lately) and her twins ``Maria`` and
    ``MARIA``, each with a password of their own; then ``migrate``. Returns the keeper and each
    twin by its old spelling, with its password."""
    call_command("migrate", "authfold", "zero", verbosity=0)
    try:
        (maria,) = legacy_users("maria", password=KEEPERS_PASSWORD)
        twins = {
            name: legacy_users(name, password=f"{name}'s own password")[0]
            for name in ("Maria", "MARIA")
        }
        User.objects.filter(pk=maria.pk).update(last_login=timezone.now())
    finally:
        call_command("migrate", verbosity=0)
    renamed = {name: (twin, f"{name}'s own password") for name, twin in twins.items()}
    return maria, renamed


def log_in_at(door, username, password):
    """The account a login on ``door`` (the host's login page, authfold's token API) opened."""
    client = Client()
    if door == "web":
        client.post(reverse("accounts:login"), {"username": username, "password": password})
        return User.objects.get(pk=client.session[SESSION_KEY])
    response = client.post(
        "/api/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return User.objects.get(username=response.json()["username"])


def keeper_logs_in_with_every_old_spelling(door):
    maria, renamed = adopt_with_a_twin_group()
    for spelling in ["maria", *renamed]:
        assert log_in_at(door, spelling, KEEPERS_PASSWORD) == maria, spelling


def each_twin_logs_in_with_its_exact_old_spelling(door):
    _maria, renamed = adopt_with_a_twin_group()
    for spelling, (twin, password) in renamed.items():
        assert log_in_at(door, spelling, password) == twin, spelling


# One test per door, none parametrized: tests/test_host_adoption.py counts the functions.


@pytest.mark.django_db(transaction=True)
def test_the_keeper_logs_in_on_the_hosts_page_with_every_old_spelling_and_her_own_password():
    keeper_logs_in_with_every_old_spelling("web")


@pytest.mark.django_db(transaction=True)
def test_the_keeper_logs_in_through_the_api_with_every_old_spelling_and_her_own_password():
    keeper_logs_in_with_every_old_spelling("api")


@pytest.mark.django_db(transaction=True)
def test_each_renamed_twin_logs_in_on_the_hosts_page_with_its_old_spelling_and_password():
    each_twin_logs_in_with_its_exact_old_spelling("web")


@pytest.mark.django_db(transaction=True)
def test_each_renamed_twin_logs_in_through_the_api_with_its_old_spelling_and_password():
    each_twin_logs_in_with_its_exact_old_spelling("api")
