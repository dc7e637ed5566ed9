"""An unconfirmed address never keeps its real owner out: a hold older than the confirmation
period is released (``release_unconfirmed_emails``, and ``conflict_audit --fix``), and while
addresses log in, a new username cannot be somebody else's address."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from authfold.accounts.models import UnconfirmedEmail
from tests.api.errors import error_codes as api_error_codes
from tests.factories import UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()
VICTIM = "victim@example.com"


def unconfirmed(user, days_ago):
    return UnconfirmedEmail.objects.create(
        user=user, email=user.email, created_at=timezone.now() - timedelta(days=days_ago)
    )


@pytest.fixture
def squatter(settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    settings.AUTHFOLD_EMAIL_CONFIRMATION_DAYS = 3
    # So that a refused sign-up says so (tests/test_enumeration.py has the other answer).
    settings.AUTHFOLD_PREVENT_ENUMERATION = False
    user = UserFactory(username="squatter", email=VICTIM)
    unconfirmed(user, days_ago=4)
    return user


def release(*options):
    out = StringIO()
    call_command("release_unconfirmed_emails", *options, stdout=out)
    return out.getvalue()


def sign_up_as_victim():
    return APIClient().post(
        "/api/users/",
        {"username": "victim", "email": VICTIM, "password": STRONG_PASSWORD},
        format="json",
    )


# Holds that outlive their link.


def test_an_unconfirmed_address_held_past_the_period_is_released_for_its_owner(squatter):
    assert "Released 1 unconfirmed address(es)." in release()
    squatter.refresh_from_db()
    assert (squatter.username, squatter.email) == ("squatter", "")
    assert not UnconfirmedEmail.objects.exists()
    assert sign_up_as_victim().status_code == 201


def test_a_hold_within_the_period_and_a_confirmed_address_are_kept(settings):
    settings.AUTHFOLD_EMAIL_CONFIRMATION_DAYS = 3
    recent = UserFactory(email="recent@example.com")
    unconfirmed(recent, days_ago=2)
    confirmed = UserFactory(email="confirmed@example.com")
    assert "Released 0 unconfirmed address(es)." in release()
    recent.refresh_from_db()
    confirmed.refresh_from_db()
    assert (recent.email, confirmed.email) == ("recent@example.com", "confirmed@example.com")


def test_a_dry_run_lists_the_holds_and_changes_nothing(squatter):
    answer = json.loads(release("--dry-run", "--format", "json"))
    assert answer == {"released": [{"user": squatter.pk, "email": VICTIM}], "dry_run": True}
    squatter.refresh_from_db()
    assert squatter.email == VICTIM
    assert sign_up_as_victim().status_code == 400


def test_the_audits_fix_releases_stale_holds_too(squatter):
    out = StringIO()
    call_command("conflict_audit", "--fix", "--no-input", stdout=out, stderr=StringIO())
    squatter.refresh_from_db()
    assert squatter.email == ""
    assert "Released 1 unconfirmed address(es)" in out.getvalue()


# Usernames that are somebody's address.


@pytest.fixture
def email_login(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True


def test_a_sign_up_named_as_another_address_is_refused_while_addresses_log_in(client, email_login):
    response = client.post(
        reverse("authfold:signup"),
        new_account_data(username=VICTIM, email="attacker@example.net"),
    )
    assert error_codes(response, "username") == {"username_is_address"}


def test_the_api_refuses_a_username_that_is_another_address_while_addresses_log_in(email_login):
    response = APIClient().post(
        "/api/users/",
        {"username": VICTIM, "email": "attacker@example.net", "password": STRONG_PASSWORD},
        format="json",
    )
    assert api_error_codes(response) == {"username": ["username_is_address"]}


def test_a_username_that_is_the_accounts_own_address_is_accepted(client, email_login):
    response = client.post(
        reverse("authfold:signup"), new_account_data(username="Victim@Example.com", email=VICTIM)
    )
    assert response.status_code == 302, response.context["form"].errors.as_data()
    assert User.objects.filter(username="Victim@Example.com").exists()


def test_a_username_shaped_as_an_address_is_accepted_when_addresses_do_not_log_in(client, settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = False
    response = client.post(
        reverse("authfold:signup"),
        new_account_data(username=VICTIM, email="attacker@example.net"),
    )
    assert response.status_code == 302, response.context["form"].errors.as_data()


def test_a_rename_to_another_address_is_refused_while_addresses_log_in(email_login):
    maria = UserFactory(username="maria", email="maria@example.com")
    client = APIClient()
    client.force_authenticate(maria)
    response = client.patch("/api/users/me/", {"username": VICTIM}, format="json")
    assert api_error_codes(response) == {"username": ["username_is_address"]}
