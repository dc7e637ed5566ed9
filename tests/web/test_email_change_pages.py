"""The web side of an email change: the profile asks for the current password when the email
changes, a changed address waits for its link under verification, and the link's page confirms
only when its button is pressed (showing it changes nothing)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from authfold.accounts.models import PendingEmailChange, UnconfirmedEmail
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def maria(client):
    user = UserFactory(username="maria", email="maria@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POSTs with the client, running what waits for the commit (the mails)."""

    def send(url, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {}, **kwargs)

    return send


def profile_data(**changes):
    data = {"username": "maria", "email": "maria@example.com", "first_name": "", "last_name": ""}
    data.update(changes)
    return data


def mailed_link(address):
    [message] = [message for message in mail.outbox if message.to == [address]]
    return re.search(r"https?://[^/\s]+(/accounts/email/confirm/\S+/)", message.body).group(1)


def test_profile_refuses_a_new_email_without_the_current_password(post, maria):
    response = post(reverse("authfold:profile"), profile_data(email="thief@example.net"))
    assert response.status_code == 200
    assert error_codes(response, "current_password") == {"password_required"}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
    assert mail.outbox == []


def test_profile_refuses_a_new_email_with_a_wrong_password(post, maria):
    response = post(
        reverse("authfold:profile"),
        profile_data(email="thief@example.net", current_password="guess"),
    )
    assert error_codes(response, "current_password") == {"password_incorrect"}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"


def test_profile_needs_no_password_when_the_email_stays(post, maria):
    response = post(reverse("authfold:profile"), profile_data(first_name="María"))
    assert response.status_code == 302
    maria.refresh_from_db()
    assert maria.first_name == "María"


def test_profile_without_verification_changes_the_email_and_tells_the_old_address(post, maria):
    response = post(
        reverse("authfold:profile"),
        profile_data(email="new@example.org", current_password=DEFAULT_PASSWORD),
    )
    assert response.status_code == 302
    maria.refresh_from_db()
    assert maria.email == "new@example.org"
    assert [message.to for message in mail.outbox] == [["maria@example.com"]]


def test_profile_with_verification_keeps_the_email_and_shows_the_pending_one(
    client, post, maria, settings
):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    response = post(
        reverse("authfold:profile"),
        profile_data(
            email="new@example.org", first_name="María", current_password=DEFAULT_PASSWORD
        ),
    )
    assert response.status_code == 302
    maria.refresh_from_db()
    assert (maria.email, maria.first_name) == ("maria@example.com", "María")
    assert [message.to for message in mail.outbox] == [["new@example.org"]]
    page = client.get(reverse("authfold:profile"))
    assert page.context["pending_email"] == "new@example.org"
    assert "new@example.org" in page.content.decode()


def test_opening_the_link_shows_the_address_and_changes_nothing(client, post, maria, settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "optional"
    post(
        reverse("authfold:profile"),
        profile_data(email="new@example.org", current_password=DEFAULT_PASSWORD),
    )
    client.logout()
    response = client.get(mailed_link("new@example.org"))
    assert response.status_code == 200
    assert "new@example.org" in response.content.decode()
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
    assert PendingEmailChange.objects.filter(user=maria).exists()


def test_the_links_button_confirms_without_a_login(client, post, maria, settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "optional"
    post(
        reverse("authfold:profile"),
        profile_data(email="new@example.org", current_password=DEFAULT_PASSWORD),
    )
    client.logout()
    response = post(mailed_link("new@example.org"))
    assert response.status_code == 302
    assert response.url == reverse("authfold:login")
    maria.refresh_from_db()
    assert maria.email == "new@example.org"
    assert [message.to for message in mail.outbox][-1] == ["maria@example.com"]


def test_a_used_link_says_so_with_a_400(client, post, maria, settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "optional"
    post(
        reverse("authfold:profile"),
        profile_data(email="new@example.org", current_password=DEFAULT_PASSWORD),
    )
    link = mailed_link("new@example.org")
    post(link)
    response = post(link)
    assert response.status_code == 400
    assert response.context["codes"] == ["key_invalid"]


def test_a_mangled_link_is_a_400_page(client):
    response = client.get(reverse("authfold:email_confirm", args=["nonsense"]))
    assert response.status_code == 400
    assert response.context["codes"] == ["key_invalid"]


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_sign_up_under_verification_mails_a_link_that_confirms_the_address(
    client, post, settings, mode
):
    settings.AUTHFOLD_EMAIL_VERIFICATION = mode
    response = post(reverse("authfold:signup"), new_account_data())
    assert response.status_code == 302
    nadia = User.objects.get(username="maria")
    assert UnconfirmedEmail.objects.filter(user=nadia).exists()
    post(mailed_link("maria@example.com"))
    assert not UnconfirmedEmail.objects.filter(user=nadia).exists()


def test_sign_up_without_verification_mails_nothing(post):
    post(reverse("authfold:signup"), new_account_data())
    assert mail.outbox == []


def test_the_profile_cancels_a_pending_change_and_its_link_confirms_nothing(
    client, post, maria, settings
):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "optional"
    post(
        reverse("authfold:profile"),
        profile_data(email="thief@example.net", current_password=DEFAULT_PASSWORD),
    )
    link = mailed_link("thief@example.net")
    response = post(reverse("authfold:pending_email_cancel"), follow=True)
    assert "pending-email" not in response.content.decode()
    assert not PendingEmailChange.objects.exists()
    assert client.post(link).status_code == 400
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
