"""Password change and the password-reset flow: the account is found by its email in any case,
the mail goes to the address the account has, and (when on) an account without a usable password
can set a first one."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes

pytestmark = pytest.mark.django_db

User = get_user_model()


def ask_for_reset(client, email):
    return client.post(reverse("authfold:password_reset"), {"email": email})


def open_reset_link(client, message):
    """Follow the link in a reset mail; Django moves the token into the session and redirects."""
    link = re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)
    response = client.get(link, follow=True)
    return response.redirect_chain[-1][0], response


def test_password_reset_finds_the_account_by_its_email_in_another_case(client):
    UserFactory(username="maria", email="maria@example.com")
    response = ask_for_reset(client, "MARIA@Example.COM")
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["maria@example.com"]]


def test_password_reset_finds_an_email_with_non_ascii_letters_in_another_case(client):
    UserFactory(username="maria", email="maria@bücher.example")
    ask_for_reset(client, "MARIA@BÜCHER.EXAMPLE")
    assert [message.to for message in mail.outbox] == [["maria@bücher.example"]]


def test_password_reset_sends_nothing_for_an_unknown_email_and_says_the_same(client):
    UserFactory(email="maria@example.com")
    response = ask_for_reset(client, "nobody@example.com")
    assert response.status_code == 302
    assert response.url == reverse("authfold:password_reset_done")
    assert mail.outbox == []


def test_password_reset_sends_nothing_to_an_inactive_account(client):
    UserFactory(email="maria@example.com", is_active=False)
    ask_for_reset(client, "maria@example.com")
    assert mail.outbox == []


def test_account_without_a_password_can_set_a_first_one_by_reset(client, settings):
    settings.AUTHFOLD_FIRST_PASSWORD_BY_RESET = True
    user = User.objects.create_user("maria", "maria@example.com")  # no password: unusable
    ask_for_reset(client, "Maria@example.com")
    assert len(mail.outbox) == 1
    set_url, form_page = open_reset_link(client, mail.outbox[0])
    assert form_page.context["validlink"]
    response = client.post(
        set_url, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("authfold:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_account_without_a_password_gets_no_reset_mail_when_the_setting_is_off(client, settings):
    settings.AUTHFOLD_FIRST_PASSWORD_BY_RESET = False
    User.objects.create_user("maria", "maria@example.com")
    ask_for_reset(client, "maria@example.com")
    assert mail.outbox == []


def test_reset_refuses_a_weak_new_password(client):
    UserFactory(username="maria", email="maria@example.com")
    ask_for_reset(client, "maria@example.com")
    set_url, _ = open_reset_link(client, mail.outbox[0])
    response = client.post(
        set_url,
        {"new_password1": "password123", "new_password2": "password123"},
    )
    assert response.status_code == 200
    assert "password_too_common" in error_codes(response, "new_password2")


def test_password_change_refuses_a_password_like_the_username(client):
    user = UserFactory(username="margarita.lopez")
    client.force_login(user)
    response = client.post(
        reverse("authfold:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Margarita.Lopez",
            "new_password2": "Margarita.Lopez",
        },
    )
    assert response.status_code == 200
    assert "password_too_similar" in error_codes(response, "new_password2")


def test_password_change_sets_the_new_password_and_keeps_the_session(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("authfold:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": STRONG_PASSWORD,
            "new_password2": STRONG_PASSWORD,
        },
    )
    assert response.url == reverse("authfold:password_change_done")
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert client.get(reverse("authfold:profile")).status_code == 200
