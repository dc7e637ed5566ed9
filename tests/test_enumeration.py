"""Under enumeration prevention (``AUTHFOLD_PREVENT_ENUMERATION``, on by default with mandatory
verification), sign-up and an email change answer alike whether or not another account holds
the address; that account's mailbox is told of the attempt instead."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from authfold.accounts.models import PendingEmailChange
from tests.api.errors import error_codes as api_error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()
HELD = "holder@example.com"
ATTEMPT_SUBJECT = "Someone tried to use your address"


@pytest.fixture
def holder(settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    return UserFactory(username="holder", email=HELD)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def send(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return send


@pytest.fixture
def api(django_capture_on_commit_callbacks):
    client = APIClient()

    def send(method, url, body):
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(url, body, format="json")

    send.client = client
    return send


def told_of_attempt(address):
    return [m for m in mail.outbox if m.to == [address] and ATTEMPT_SUBJECT in m.subject]


def shown_messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def web_sign_up(post, username, email, **changes):
    return post(
        reverse("authfold:signup"), new_account_data(username=username, email=email, **changes)
    )


# Sign-up on the web.


def test_a_web_sign_up_with_a_held_address_is_answered_as_one_with_a_free_address(
    holder, post, client
):
    held = web_sign_up(post, "intruder", "Holder@Example.com")
    client.cookies.clear()
    free = web_sign_up(post, "newcomer", "newcomer@example.com")
    assert held.status_code == free.status_code == 302
    assert held.url == free.url == reverse("authfold:login")
    [held_message] = shown_messages(held)
    [free_message] = shown_messages(free)
    assert held_message.replace("Holder@example.com", "X") == free_message.replace(
        "newcomer@example.com", "X"
    )
    assert not User.objects.filter(username="intruder").exists()
    assert User.objects.filter(username="newcomer").exists()


def test_the_holder_of_an_address_is_told_of_a_sign_up_attempt_with_it(holder, post):
    web_sign_up(post, "intruder", HELD)
    [notice] = told_of_attempt(HELD)
    assert "/accounts/password/reset/" in notice.body


def test_a_refused_sign_up_shows_its_other_errors_but_not_that_the_address_is_held(holder, post):
    response = web_sign_up(post, "intruder", HELD, password1="short", password2="short")
    assert response.status_code == 200
    assert error_codes(response, "email") == set()
    assert error_codes(response, "password2")


def test_without_prevention_a_held_address_is_refused_on_the_sign_up_page(holder, post, settings):
    settings.AUTHFOLD_PREVENT_ENUMERATION = False
    response = web_sign_up(post, "intruder", HELD)
    assert error_codes(response, "email") == {"email_taken"}
    assert told_of_attempt(HELD) == []


def test_without_verification_prevention_has_no_effect(holder, post, settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "none"
    settings.AUTHFOLD_PREVENT_ENUMERATION = True
    response = web_sign_up(post, "intruder", HELD)
    assert error_codes(response, "email") == {"email_taken"}


# Sign-up through the API.


def test_an_api_sign_up_with_a_held_address_is_answered_as_one_with_a_free_address(holder, api):
    held = api(
        "post", "/api/users/", {"username": "intruder", "email": HELD, "password": STRONG_PASSWORD}
    )
    free = api(
        "post",
        "/api/users/",
        {"username": "newcomer", "email": "newcomer@example.com", "password": STRONG_PASSWORD},
    )
    assert held.status_code == free.status_code == 201
    assert (
        set(held.json()) == set(free.json()) == {"username", "email", "email_confirmed", "detail"}
    )
    assert not User.objects.filter(username="intruder").exists()
    assert User.objects.filter(username="newcomer").exists()
    assert len(told_of_attempt(HELD)) == 1


def test_an_api_sign_up_under_prevention_logs_in_for_its_token(holder, api):
    api(
        "post",
        "/api/users/",
        {"username": "newcomer", "email": "n@example.com", "password": STRONG_PASSWORD},
    )
    response = api(
        "post", "/api/auth/token/", {"username": "newcomer", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token"]


def test_without_prevention_the_api_refuses_a_held_address(holder, api, settings):
    settings.AUTHFOLD_PREVENT_ENUMERATION = False
    response = api(
        "post", "/api/users/", {"username": "intruder", "email": HELD, "password": STRONG_PASSWORD}
    )
    assert api_error_codes(response) == {"email": ["email_taken"]}


# Changing the email.


@pytest.fixture
def maria(holder):
    return UserFactory(username="maria", email="maria@example.com")


def test_an_api_change_to_a_held_address_is_answered_as_pending_and_its_holder_told(maria, api):
    api.client.force_authenticate(maria)
    response = api("patch", "/api/users/me/", {"email": HELD, "current_password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["pending_email"]) == (
        "maria@example.com",
        HELD,
    )
    assert len(told_of_attempt(HELD)) == 1
    assert [m for m in mail.outbox if m.to == [HELD]] == told_of_attempt(HELD)


def test_a_profile_change_to_a_held_address_is_answered_as_pending(maria, client, post):
    client.force_login(maria)
    response = post(
        reverse("authfold:profile"),
        {
            "username": "maria",
            "email": HELD,
            "current_password": DEFAULT_PASSWORD,
            "first_name": "",
            "last_name": "",
        },
    )
    assert response.status_code == 302
    assert PendingEmailChange.objects.get(user=maria).email == HELD
    assert len(told_of_attempt(HELD)) == 1
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
