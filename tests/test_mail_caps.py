"""The caps on mail and on guesses at the doors that send mail or answer about an address: the web
profile counts its posts with the API's (scope ``profile``), an account's own mails are capped
(``email_mail``), and so is every mail to one address (``email_destination``), whatever door
sent it. Low rates here; the demo's are in mysite/settings.py."""

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from authfold.accounts.email_verification import mail_after_commit
from tests.api.errors import error_codes as api_error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.test_throttles import rates
from tests.web.pages import error_codes

pytestmark = pytest.mark.django_db

PROFILE_URL = reverse("authfold:profile")
ME_URL = "/api/users/me/"
RESET_URL = "/accounts/password/reset/"
CAP = 3


@pytest.fixture
def maria(client):
    user = UserFactory(username="maria", email="maria@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POSTs with the signed-in client, running what waits for the commit (the mails)."""

    def send(url, data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **kwargs)

    return send


def profile_data(**changes):
    return {
        "username": "maria",
        "email": "maria@example.com",
        "first_name": "",
        "last_name": "",
    } | (changes)


def mails_to(address):
    return [message for message in mail.outbox if message.to == [address]]


def test_profile_posts_beyond_the_profile_rate_get_429_and_answer_nothing(settings, post, maria):
    rates(settings, profile=f"{CAP}/hour")
    UserFactory(username="taken", email="taken@example.com")
    probes = [post(PROFILE_URL, profile_data(email=f"probe{n}@example.com")) for n in range(CAP)]
    refused = post(PROFILE_URL, profile_data(email="taken@example.com"))

    assert [probe.status_code for probe in probes] == [200] * CAP
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "email_taken" not in refused.content.decode()


def test_wrong_current_passwords_on_the_web_profile_count_toward_the_api_profile_cap(
    settings, post, maria
):
    rates(settings, profile=f"{CAP}/hour")
    for n in range(CAP):
        answer = post(
            PROFILE_URL, profile_data(email="new@example.com", current_password=f"guess{n}")
        )
        assert error_codes(answer, "current_password") == {"password_incorrect"}
    api = APIClient()
    api.force_authenticate(maria)

    right_password = {"email": "new@example.com", "current_password": DEFAULT_PASSWORD}
    assert api.patch(ME_URL, right_password, format="json").status_code == 429
    assert post(PROFILE_URL, profile_data(current_password=DEFAULT_PASSWORD)).status_code == 429


def test_showing_the_profile_page_is_not_counted(settings, client, maria):
    rates(settings, profile="1/hour")
    assert {client.get(PROFILE_URL).status_code for _ in range(3)} == {200}


def test_change_notices_to_case_variants_of_one_address_stop_at_its_cap(settings, post, maria):
    rates(settings, profile=None, email_mail=None, email_destination=f"{CAP}/hour")
    spellings = ["MARIA@example.com", "maria@EXAMPLE.com", "Maria@Example.Com", "maria@example.com"]
    for spelling in spellings * 2:
        answer = post(PROFILE_URL, profile_data(email=spelling, current_password=DEFAULT_PASSWORD))
        assert answer.status_code == 302

    notices = [message for message in mail.outbox if message.to[0].lower() == "maria@example.com"]
    assert len(notices) == CAP


def test_mails_an_account_causes_beyond_its_cap_are_refused_with_mail_limit(settings, post, maria):
    rates(settings, profile=None, email_mail=f"{CAP}/hour", email_destination=None)
    changes = [
        post(
            PROFILE_URL,
            profile_data(email=f"new{n}@example.com", current_password=DEFAULT_PASSWORD),
        )
        for n in range(CAP + 1)
    ]

    assert [change.status_code for change in changes] == [302] * CAP + [200]
    assert error_codes(changes[-1], "email") == {"mail_limit"}
    assert mails_to(f"new{CAP}@example.com") == []
    assert len(mail.outbox) == CAP


def test_the_api_refuses_an_email_change_beyond_the_account_mail_cap(
    settings, maria, django_capture_on_commit_callbacks
):
    rates(settings, profile=None, email_mail="1/hour", email_destination=None)
    api = APIClient()
    api.force_authenticate(maria)
    change = {"email": "new@example.com", "current_password": DEFAULT_PASSWORD}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.patch(ME_URL, change, format="json").status_code == 200

    refused = api.patch(ME_URL, {**change, "email": "other@example.com"}, format="json")
    assert refused.status_code == 400
    assert api_error_codes(refused) == {"email": ["mail_limit"]}


def test_password_reset_mails_to_one_address_stop_at_its_cap(settings, client):
    rates(settings, password_reset=None, email_destination=f"{CAP}/hour")
    UserFactory(username="maria", email="maria@example.com")
    answers = [
        client.post(RESET_URL, {"email": typed})
        for typed in ["maria@example.com", "MARIA@example.com"] * CAP
    ]

    assert {answer.status_code for answer in answers} == {302}  # the same page, mail or not
    assert len(mails_to("maria@example.com")) == CAP


def test_a_sign_up_confirmation_counts_toward_its_address_cap(
    settings, client, django_capture_on_commit_callbacks
):
    rates(settings, email_destination="1/hour")
    with django_capture_on_commit_callbacks(execute=True):
        mail_after_commit(("Subject", "Body"), "New@example.com", None)
        answer = client.post(
            reverse("authfold:signup"),
            {
                "username": "newcomer",
                "email": "new@example.com",
                "password1": DEFAULT_PASSWORD,
                "password2": DEFAULT_PASSWORD,
            },
        )

    assert answer.status_code == 302
    assert [message.subject for message in mail.outbox] == ["Subject"]
