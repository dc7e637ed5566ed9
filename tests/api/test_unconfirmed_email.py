"""What the API tells a person whose address waits for its confirmation link: ``email_confirmed``
in the account's answers, a throttled ``POST /api/users/me/email/resend/``, and a token login by
the unconfirmed address that says so where enumeration prevention allows."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from authfold.accounts.login import EMAIL_UNCONFIRMED, UNCONFIRMED_HINT
from authfold.accounts.models import PendingEmailChange
from tests.api.errors import error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
ME = "/api/users/me/"
RESEND = "/api/users/me/email/resend/"
CONFIRM = "/api/auth/email/confirm/"
TOKEN = "/api/auth/token/"
STRONG_PASSWORD = "violet kettle orbit 42"


@pytest.fixture
def mandatory(settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs a request, then what waits for its commit (the mails)."""

    def run(send, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return send(*args, **kwargs)

    return run


@pytest.fixture
def nadia_signs_up(api_client, committed):
    def sign_up():
        return committed(
            api_client.post,
            "/api/users/",
            {"username": "nadia", "email": "nadia@example.org", "password": STRONG_PASSWORD},
            format="json",
        )

    return sign_up


@pytest.fixture
def nadia(mandatory, nadia_signs_up):
    """An account signed up under mandatory verification, its address not confirmed yet."""
    assert nadia_signs_up().status_code == 201
    return User.objects.get(username="nadia")


def mailed_keys(address):
    return [
        re.search(r"/accounts/email/confirm/([^/\s]+)/", message.body).group(1)
        for message in mail.outbox
        if message.to == [address]
    ]


def token_login(api_client, username, password=STRONG_PASSWORD):
    return api_client.post(TOKEN, {"username": username, "password": password}, format="json")


# email_confirmed.


def test_a_sign_up_answer_says_the_email_waits_for_confirmation(mandatory, nadia_signs_up):
    assert nadia_signs_up().json()["email_confirmed"] is False


def test_without_verification_a_sign_up_answer_says_the_email_is_confirmed(nadia_signs_up):
    assert nadia_signs_up().json()["email_confirmed"] is True


def test_reading_your_account_says_the_email_is_unconfirmed_until_its_link_is_followed(
    nadia, signed_in, api_client, committed
):
    assert signed_in(nadia).get(ME).json()["email_confirmed"] is False
    [key] = mailed_keys("nadia@example.org")
    assert committed(api_client.post, CONFIRM, {"key": key}, format="json").status_code == 200
    assert signed_in(nadia).get(ME).json()["email_confirmed"] is True


def test_a_profile_change_answer_says_whether_the_email_is_confirmed(nadia, signed_in):
    response = signed_in(nadia).patch(ME, {"username": "Nadia"}, format="json")
    assert response.status_code == 200
    assert response.json()["email_confirmed"] is False


def test_email_confirmed_cannot_be_written(nadia, signed_in):
    signed_in(nadia).patch(ME, {"email_confirmed": True}, format="json")
    assert signed_in(nadia).get(ME).json()["email_confirmed"] is False


# Resend.


def test_resend_mails_a_new_link_and_the_earlier_one_dies(nadia, signed_in, api_client, committed):
    [first] = mailed_keys("nadia@example.org")
    response = committed(signed_in(nadia).post, RESEND)
    assert response.status_code == 202
    assert response.json() == {"email": "nadia@example.org"}
    [_first, second] = mailed_keys("nadia@example.org")
    assert api_client.post(CONFIRM, {"key": first}, format="json").status_code == 400
    assert api_client.post(CONFIRM, {"key": second}, format="json").status_code == 200


def test_resend_mails_the_pending_change_rather_than_the_current_address(
    settings, signed_in, committed
):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "optional"
    maria = UserFactory(username="maria", email="maria@example.com")
    committed(
        signed_in(maria).patch,
        ME,
        {"email": "new@example.org", "current_password": DEFAULT_PASSWORD},
        format="json",
    )
    requested = PendingEmailChange.objects.get(user=maria).requested_at
    response = committed(signed_in(maria).post, RESEND)
    assert response.json() == {"email": "new@example.org"}
    assert len(mailed_keys("new@example.org")) == 2
    assert PendingEmailChange.objects.get(user=maria).requested_at > requested


def test_resend_with_nothing_to_confirm_is_refused(signed_in):
    maria = UserFactory(username="maria", email="maria@example.com")
    response = signed_in(maria).post(RESEND)
    assert response.status_code == 400
    assert error_codes(response) == {"email": ["nothing_to_confirm"]}
    assert mail.outbox == []


def test_resend_needs_a_login(api_client):
    assert api_client.post(RESEND).status_code == 401


def test_resend_is_throttled_to_one_every_three_minutes_per_account(nadia, signed_in, committed):
    assert committed(signed_in(nadia).post, RESEND).status_code == 202
    refused = committed(signed_in(nadia).post, RESEND)
    assert refused.status_code == 429
    assert 170 < int(refused["Retry-After"]) <= 180
    assert len(mailed_keys("nadia@example.org")) == 2  # the sign-up's and one resend


# Token login by the unconfirmed address.


def test_token_login_by_an_unconfirmed_address_says_so_when_enumeration_is_not_prevented(
    nadia, api_client, settings
):
    settings.AUTHFOLD_PREVENT_ENUMERATION = False
    response = token_login(api_client, "NADIA@example.org")
    assert response.status_code == 400
    assert error_codes(response) == {"non_field_errors": ["email_unconfirmed"]}
    assert response.json()["non_field_errors"] == [str(EMAIL_UNCONFIRMED)]


def test_token_login_says_an_address_is_unconfirmed_only_for_the_right_password(
    nadia, api_client, settings
):
    settings.AUTHFOLD_PREVENT_ENUMERATION = False
    wrong = token_login(api_client, "nadia@example.org", password="wrong")
    right = token_login(api_client, "nadia@example.org")
    assert error_codes(wrong) == {"non_field_errors": ["invalid_login"]}
    assert error_codes(right) == {"non_field_errors": ["email_unconfirmed"]}


def test_token_login_by_an_unconfirmed_address_stays_generic_while_enumeration_is_prevented(
    nadia, api_client
):
    response = token_login(api_client, "nadia@example.org")
    assert error_codes(response) == {"non_field_errors": ["invalid_login"]}
    [message] = response.json()["non_field_errors"]
    assert str(UNCONFIRMED_HINT) in message
