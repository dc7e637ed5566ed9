"""The host's own ``accounts`` app keeps its label, its package and its pages after the adoption."""

from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse

from tests.people import PASSWORD

HOST_DIR = Path(__file__).resolve().parent.parent


def test_the_accounts_label_is_the_hosts_own_app():
    config = apps.get_app_config("accounts")
    assert config.name == "accounts"
    assert Path(config.path) == HOST_DIR / "accounts"


def test_importing_accounts_gives_the_hosts_package_not_the_checkout_folder():
    import accounts

    assert Path(accounts.__file__).parent == HOST_DIR / "accounts"


def test_authfold_is_installed_under_its_own_label():
    config = apps.get_app_config("authfold")
    assert config.name == "authfold.accounts"


@pytest.mark.django_db
def test_every_new_account_gets_a_profile(make_user):
    assert make_user("maria").profile.pk is not None


@pytest.mark.django_db
def test_the_account_settings_page_shows_the_hosts_form(client, make_user):
    client.force_login(make_user("maria"))
    response = client.get(reverse("accounts:settings"))
    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["username", "email"]


@pytest.mark.django_db
def test_the_hosts_login_page_logs_in_with_the_exact_username(client, make_user):
    maria = make_user("maria")
    response = client.post(reverse("accounts:login"), {"username": "maria", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(maria.pk)
