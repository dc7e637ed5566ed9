"""Every mail of ours links to and names the site ``AUTHFOLD_SITE_URL`` gives, never the site a
request's ``Host`` header names: ``ALLOWED_HOSTS`` checks the header's name but not its port, so
``example.com:6666`` passes and would carry a confirmation key, or the site's name in a subject,
wherever the sender chose."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import STRONG_PASSWORD, new_account_data

pytestmark = pytest.mark.django_db

HOSTILE_HOST = "example.com:6666"
SITE_HOST = "accounts.example.org"


@pytest.fixture
def hostile_host_allowed(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "example.com"]
    settings.AUTHFOLD_SITE_URL = f"https://{SITE_HOST}"


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POSTs with the client and the hostile ``Host`` header, running what waits for the commit
    (the mails)."""

    def send(url, data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, HTTP_HOST=HOSTILE_HOST, **kwargs)

    return send


def mail_to(address):
    [message] = [message for message in mail.outbox if message.to == [address]]
    return message


def change_email(client, post, new_email):
    maria = UserFactory(username="maria", email="maria@example.com")
    client.force_login(maria)
    data = {
        "username": "maria",
        "email": new_email,
        "first_name": "",
        "last_name": "",
        "current_password": DEFAULT_PASSWORD,
    }
    response = post(reverse("authfold:profile"), data)
    assert response.status_code == 302


def assert_names_only_the_site(message):
    assert SITE_HOST in message.subject
    assert "example.com:6666" not in message.subject + message.body
    for link in re.findall(r"https?://\S+", message.body):
        assert link.startswith(f"https://{SITE_HOST}/")


def test_the_confirmation_mail_of_an_email_change_names_the_site_url_not_the_host_header(
    client, post, settings, hostile_host_allowed
):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "optional"
    change_email(client, post, "new@example.org")
    message = mail_to("new@example.org")
    assert re.search(rf"https://{SITE_HOST}/accounts/email/confirm/\S+/", message.body)
    assert_names_only_the_site(message)


def test_the_confirmation_mail_of_a_sign_up_names_the_site_url_not_the_host_header(
    post, settings, hostile_host_allowed
):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    data = new_account_data(username="maria", email="maria@example.com")
    response = post(reverse("authfold:signup"), data)
    assert response.status_code == 302
    message = mail_to("maria@example.com")
    assert re.search(rf"https://{SITE_HOST}/accounts/email/confirm/\S+/", message.body)
    assert_names_only_the_site(message)


def test_the_notice_to_the_old_address_names_the_site_url_not_the_host_header(
    client, post, hostile_host_allowed
):
    change_email(client, post, "new@example.org")
    assert_names_only_the_site(mail_to("maria@example.com"))


def test_the_confirmation_mail_of_an_api_sign_up_names_the_site_url_not_the_host_header(
    post, settings, hostile_host_allowed
):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    data = {"username": "maria", "email": "maria@example.com", "password": STRONG_PASSWORD}
    response = post("/api/users/", data, content_type="application/json")
    assert response.status_code == 201, response.content
    assert_names_only_the_site(mail_to("maria@example.com"))


def test_without_a_site_url_the_confirmation_mail_names_the_request_host_as_django_does(
    post, settings
):
    """What the setting is for: unset, the mail follows the request, as Django's reset does."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "example.com"]
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    post(reverse("authfold:signup"), new_account_data(username="maria", email="maria@example.com"))
    assert f"http://{HOSTILE_HOST}/accounts/email/confirm/" in mail_to("maria@example.com").body
