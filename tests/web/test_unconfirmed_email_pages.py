"""What the pages tell a person whose address waits for its confirmation link: a message after
sign-up, the address's state and a throttled resend button on the profile, a login by the
unconfirmed address that says so where enumeration prevention allows, and a confirmation page
that names the account it confirms for."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from authfold.accounts.login import UNCONFIRMED_HINT
from authfold.accounts.models import UnconfirmedEmail
from tests.factories import UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def mandatory(settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POSTs with the client, running what waits for the commit (the mails)."""

    def send(url, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {}, **kwargs)

    return send


@pytest.fixture
def maria(mandatory, post, client):
    """Signed up on the page under mandatory verification, unconfirmed, and signed in (the
    sign-up itself signs nobody in under enumeration prevention)."""
    assert post(reverse("authfold:signup"), new_account_data()).status_code == 302
    user = User.objects.get(username="maria")
    client.force_login(user)
    return user


def mailed_links(address):
    return [
        re.search(r"https?://[^/\s]+(/accounts/email/confirm/\S+/)", message.body).group(1)
        for message in mail.outbox
        if message.to == [address]
    ]


def shown_messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def log_in(client, username, password=STRONG_PASSWORD):
    return client.post(reverse("authfold:login"), {"username": username, "password": password})


# Sign-up and profile.


def test_sign_up_under_verification_says_the_address_waits_for_its_link(mandatory, post):
    response = post(reverse("authfold:signup"), new_account_data())
    assert any("maria@example.com" in message for message in shown_messages(response))


def test_the_profile_shows_an_unconfirmed_address_and_a_resend_button(client, maria):
    page = client.get(reverse("authfold:profile")).content.decode()
    assert 'data-testid="email-unconfirmed"' in page
    assert 'data-testid="resend-confirmation"' in page


def test_the_profile_shows_a_confirmed_address_without_a_resend_button(client, maria, post):
    [link] = mailed_links("maria@example.com")
    post(link)
    page = client.get(reverse("authfold:profile")).content.decode()
    assert 'data-testid="email-confirmed"' in page
    assert 'data-testid="resend-confirmation"' not in page


def test_the_profiles_resend_mails_a_new_link_and_the_earlier_one_dies(client, maria, post):
    response = post(reverse("authfold:email_resend"))
    assert response.status_code == 302
    [first, second] = mailed_links("maria@example.com")
    client.logout()
    assert client.post(first).status_code == 400
    assert client.post(second).status_code == 302
    assert not UnconfirmedEmail.objects.filter(user=maria).exists()


def test_the_profiles_resend_is_throttled_per_account(maria, post):
    assert post(reverse("authfold:email_resend")).status_code == 302
    refused = post(reverse("authfold:email_resend"))
    assert refused.status_code == 429
    assert len(mailed_links("maria@example.com")) == 2  # the sign-up's and one resend


def test_resend_needs_a_login(client):
    response = client.post(reverse("authfold:email_resend"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("authfold:login"))
    assert mail.outbox == []


def test_resend_with_nothing_to_confirm_mails_nothing(client):
    client.force_login(UserFactory(username="ines", email="ines@example.com"))
    response = client.post(reverse("authfold:email_resend"), follow=True)
    assert response.status_code == 200
    assert mail.outbox == []


# Login by the unconfirmed address.


def test_login_by_an_unconfirmed_address_says_so_when_enumeration_is_not_prevented(
    client, maria, settings
):
    settings.AUTHFOLD_PREVENT_ENUMERATION = False
    client.logout()
    response = log_in(client, "Maria@Example.com")
    assert response.status_code == 200
    assert error_codes(response, "__all__") == {"email_unconfirmed"}


def test_login_by_an_unconfirmed_address_stays_generic_while_enumeration_is_prevented(
    client, maria
):
    client.logout()
    response = log_in(client, "maria@example.com")
    assert error_codes(response, "__all__") == {"invalid_login"}
    assert str(UNCONFIRMED_HINT) in response.content.decode()


# The confirmation page.


def test_the_confirmation_page_names_the_account_it_confirms_for(client, maria):
    [link] = mailed_links("maria@example.com")
    client.logout()
    response = client.get(link)
    assert response.context["username"] == "maria"
    assert "maria" in response.content.decode().split("<main>", 1)[1]


def test_the_confirmation_page_warns_a_person_signed_in_as_another_account(client, maria):
    [link] = mailed_links("maria@example.com")
    client.force_login(UserFactory(username="ines", email="ines@example.com"))
    page = client.get(link).content.decode()
    assert 'data-testid="another-account"' in page


def test_confirming_another_accounts_link_names_that_account_and_never_says_yours(
    client, maria, post
):
    [link] = mailed_links("maria@example.com")
    client.force_login(UserFactory(username="ines", email="ines@example.com"))
    response = post(link)
    assert response.url == reverse("authfold:login")
    message = shown_messages(response)[-1]
    assert "“maria”" in message
    assert "your" not in message.lower()
    assert not UnconfirmedEmail.objects.filter(user=maria).exists()
