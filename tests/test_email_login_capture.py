"""Email login cannot be captured: no account's username is, caselessly, another account's email
address, and no account's email is another account's username, on every write path (web sign-up,
profile, admin, API, a host's own ModelForm). With ``AUTHFOLD_LOGIN_BY_EMAIL`` on the backend
looks a login up as a username first, so such a name would take that person's email login."""

import pytest
from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authfold.accounts.validators import clean_new_email, clean_new_username
from tests.api.errors import error_codes as api_error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()

ATTACKER_PASSWORD = "attacker's own long phrase"

# How the victim's address can be typed as a username: any case, fullwidth, its domain's forms.
VICTIM_ADDRESS_AS_USERNAME = {
    "same": "victim@example.com",
    "upper case": "VICTIM@EXAMPLE.COM",
    "mixed case": "Victim@Example.com",
    "fullwidth": "ｖｉｃｔｉｍ＠ｅｘａｍｐｌｅ.com",
}


@pytest.fixture
def victim(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    return UserFactory(username="victim", email="victim@example.com")


@pytest.fixture
def api_client():
    """An anonymous API client, with no throttle history (the counters live in the cache)."""
    cache.clear()
    yield APIClient()
    cache.clear()


@pytest.fixture
def signed_in(api_client):
    """Makes an API client that sends the given user's token."""

    def client_for(user):
        token, _ = Token.objects.get_or_create(user=user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api_client

    return client_for


def codes(error):
    return {item.code for item in error.value.error_list}


@pytest.mark.parametrize(
    "username", VICTIM_ADDRESS_AS_USERNAME.values(), ids=VICTIM_ADDRESS_AS_USERNAME
)
def test_a_username_that_is_another_accounts_email_is_refused(victim, username):
    with pytest.raises(forms.ValidationError) as error:
        clean_new_username(username)
    assert codes(error) == {"username_is_email_of_other"}


def test_a_username_that_is_another_accounts_idn_email_in_ascii_form_is_refused(settings):
    UserFactory(username="hans", email="hans@bücher.de")
    with pytest.raises(forms.ValidationError) as error:
        clean_new_username("hans@xn--bcher-kva.de")
    assert codes(error) == {"username_is_email_of_other"}


@pytest.mark.parametrize(
    "email", ["victim@example.com", "VICTIM@example.COM"], ids=["same", "another case"]
)
def test_an_email_that_is_another_accounts_username_is_refused(email):
    UserFactory(username="victim@example.com", email="someone@example.org")
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email(email)
    assert codes(error) == {"email_is_username_of_other"}


def test_an_email_whose_idn_domain_is_another_accounts_username_in_unicode_is_refused():
    UserFactory(username="hans@bücher.de", email="someone@example.org")
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email("hans@xn--bcher-kva.de")
    assert codes(error) == {"email_is_username_of_other"}


def test_the_rule_holds_with_email_login_off(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = False
    UserFactory(username="victim", email="victim@example.com")
    with pytest.raises(forms.ValidationError) as error:
        clean_new_username("Victim@example.com")
    assert codes(error) == {"username_is_email_of_other"}


def test_an_account_may_take_its_own_email_as_its_username(victim):
    assert clean_new_username("Victim@example.com", exclude_pk=victim.pk) == "Victim@example.com"


def test_an_account_may_take_its_own_username_as_its_email():
    user = UserFactory(username="anna@example.com", email="anna@example.org")
    assert clean_new_email("anna@example.com", exclude_pk=user.pk) == "anna@example.com"


def test_a_username_with_an_at_sign_nobody_has_as_email_stays_free(victim):
    assert clean_new_username("victim@example.org") == "victim@example.org"


@pytest.mark.parametrize(
    "username", VICTIM_ADDRESS_AS_USERNAME.values(), ids=VICTIM_ADDRESS_AS_USERNAME
)
def test_web_signup_as_the_victims_address_is_refused_and_the_login_stays_the_victims(
    client, victim, username
):
    response = client.post(
        reverse("authfold:signup"),
        new_account_data(
            username=username, email="attacker@example.org", password1=ATTACKER_PASSWORD
        ),
    )
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_is_email_of_other"}
    assert not User.objects.filter(email="attacker@example.org").exists()
    assert authenticate(username="victim@example.com", password=ATTACKER_PASSWORD) is None
    assert authenticate(username="victim@example.com", password=DEFAULT_PASSWORD) == victim


def test_web_signup_with_another_accounts_username_as_email_is_refused(client, settings):
    UserFactory(username="bob@example.com", email="bob@example.org")
    response = client.post(
        reverse("authfold:signup"), new_account_data(username="robert", email="BOB@example.com")
    )
    assert response.status_code == 200
    assert error_codes(response, "email") == {"email_is_username_of_other"}
    assert not User.objects.filter(username="robert").exists()


@pytest.mark.parametrize(
    "username", VICTIM_ADDRESS_AS_USERNAME.values(), ids=VICTIM_ADDRESS_AS_USERNAME
)
def test_api_signup_as_the_victims_address_is_refused(api_client, victim, username):
    response = api_client.post(
        "/api/users/",
        {"username": username, "email": "attacker@example.org", "password": ATTACKER_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert api_error_codes(response) == {"username": ["username_is_email_of_other"]}
    assert User.objects.count() == 1


def test_api_signup_with_another_accounts_username_as_email_is_refused(api_client):
    UserFactory(username="bob@example.com", email="bob@example.org")
    response = api_client.post(
        "/api/users/",
        {"username": "robert", "email": "Bob@Example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert api_error_codes(response) == {"email": ["email_is_username_of_other"]}


def test_web_profile_cannot_rename_onto_the_victims_address(client, victim):
    attacker = UserFactory(username="attacker", email="attacker@example.org")
    client.force_login(attacker)
    response = client.post(
        reverse("authfold:profile"),
        {"username": "VICTIM@example.com", "email": attacker.email},
    )
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_is_email_of_other"}
    attacker.refresh_from_db()
    assert attacker.username == "attacker"


def test_web_profile_cannot_take_another_accounts_username_as_email(client):
    UserFactory(username="bob@example.com", email="bob@example.org")
    user = UserFactory(username="robert", email="robert@example.org")
    client.force_login(user)
    response = client.post(
        reverse("authfold:profile"), {"username": "robert", "email": "bob@example.com"}
    )
    assert error_codes(response, "email") == {"email_is_username_of_other"}
    user.refresh_from_db()
    assert user.email == "robert@example.org"


def test_web_profile_may_take_the_accounts_own_email_as_username(client, victim):
    client.force_login(victim)
    response = client.post(
        reverse("authfold:profile"),
        {"username": "victim@example.com", "email": "victim@example.com"},
    )
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.username == "victim@example.com"


def test_api_profile_cannot_rename_onto_the_victims_address(signed_in, victim):
    attacker = UserFactory(username="attacker", email="attacker@example.org")
    response = signed_in(attacker).patch(
        "/api/users/me/", {"username": "Victim@Example.com"}, format="json"
    )
    assert response.status_code == 400
    assert api_error_codes(response) == {"username": ["username_is_email_of_other"]}
    attacker.refresh_from_db()
    assert attacker.username == "attacker"


def test_api_profile_cannot_take_another_accounts_username_as_email(signed_in):
    UserFactory(username="bob@example.com", email="bob@example.org")
    user = UserFactory(username="robert", email="robert@example.org")
    response = signed_in(user).patch("/api/users/me/", {"email": "BOB@example.com"}, format="json")
    assert response.status_code == 400
    assert api_error_codes(response) == {"email": ["email_is_username_of_other"]}


def test_admin_add_user_as_the_victims_address_is_refused(admin_client, victim):
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        new_account_data(username="victim@EXAMPLE.com", email="attacker@example.org"),
    )
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_is_email_of_other"}
    assert not User.objects.filter(email="attacker@example.org").exists()


def test_admin_change_user_onto_the_victims_address_is_refused(admin_client, victim):
    attacker = UserFactory(username="attacker", email="attacker@example.org")
    response = admin_client.post(
        reverse("admin:auth_user_change", args=[attacker.pk]),
        {
            "username": "victim@example.com",
            "email": attacker.email,
            "first_name": "",
            "last_name": "",
            "is_active": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "12:00:00",
        },
    )
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_is_email_of_other"}
    attacker.refresh_from_db()
    assert attacker.username == "attacker"


def test_admin_add_user_with_another_accounts_username_as_email_is_refused(admin_client):
    UserFactory(username="bob@example.com", email="bob@example.org")
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        new_account_data(username="robert", email="bob@example.com", password1=STRONG_PASSWORD),
    )
    assert response.status_code == 200
    assert error_codes(response, "email") == {"email_is_username_of_other"}


class HostUserForm(forms.ModelForm):
    """A host project's plain ModelForm: the rule reaches it through validate_unique."""

    class Meta:
        model = User
        fields = ["username", "email"]


def test_a_host_model_form_refuses_the_victims_address_as_username(victim):
    form = HostUserForm(data={"username": "VICTIM@example.com", "email": "a@example.org"})
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["username"]] == [
        "username_is_email_of_other"
    ]


def test_a_host_model_form_refuses_another_accounts_username_as_email():
    UserFactory(username="bob@example.com", email="bob@example.org")
    form = HostUserForm(data={"username": "robert", "email": "Bob@example.com"})
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["email"]] == [
        "email_is_username_of_other"
    ]


def test_before_migrate_both_directions_are_still_refused(accounts_migrator):
    """A rolling deploy: the key table is not there yet, the database's own caseless match finds
    the candidates and the key decides."""
    accounts_migrator.to("zero")
    UserFactory(username="victim", email="victim@example.com")
    UserFactory(username="bob@example.com", email="bob@example.org")
    with pytest.raises(forms.ValidationError) as error:
        clean_new_username("VICTIM@example.com")
    assert codes(error) == {"username_is_email_of_other"}
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email("Bob@Example.com")
    assert codes(error) == {"email_is_username_of_other"}
