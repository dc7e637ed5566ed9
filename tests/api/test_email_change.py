"""Changing the email through the API: the current password first, a notice to the old address,
and with verification on, a pending address that the key mailed to it confirms
(``POST /api/auth/email/confirm/``); with mandatory verification, a sign-up's address too."""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from authfold.accounts.caseless import users_with_email
from authfold.accounts.email_verification import SALT, stamp
from authfold.accounts.models import PendingEmailChange, UnconfirmedEmail
from tests.api.errors import error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
ME = "/api/users/me/"
CONFIRM = "/api/auth/email/confirm/"
STRONG_PASSWORD = "violet kettle orbit 42"


@pytest.fixture
def maria():
    return UserFactory(username="maria", email="maria@example.com")


@pytest.fixture
def change(signed_in, maria, django_capture_on_commit_callbacks):
    """PATCHes ``/api/users/me/`` as maria, running what waits for the commit (the mails)."""

    def patch(body):
        with django_capture_on_commit_callbacks(execute=True):
            return signed_in(maria).patch(ME, body, format="json")

    return patch


@pytest.fixture
def confirm(api_client, django_capture_on_commit_callbacks):
    """POSTs a key to the confirmation endpoint, anonymously, running what waits for the commit."""

    def post(key):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(CONFIRM, {"key": key}, format="json")

    return post


def verification(settings, mode):
    settings.AUTHFOLD_EMAIL_VERIFICATION = mode


def mailed_key(message):
    """The key in a confirmation mail's link."""
    return re.search(r"/accounts/email/confirm/([^/\s]+)/", message.body).group(1)


def mails_to(address):
    return [message for message in mail.outbox if message.to == [address]]


# The password.


def test_a_new_email_without_the_current_password_is_refused_and_changes_nothing(change, maria):
    response = change({"email": "thief@example.net"})
    assert response.status_code == 400
    assert error_codes(response) == {"current_password": ["password_required"]}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
    assert mail.outbox == []


def test_a_new_email_with_a_wrong_password_is_refused_and_changes_nothing(change, maria):
    response = change({"email": "thief@example.net", "current_password": "guess"})
    assert error_codes(response) == {"current_password": ["password_incorrect"]}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
    assert not PendingEmailChange.objects.exists()


def test_a_username_change_needs_no_password(change, maria):
    response = change({"username": "Maria"})
    assert response.status_code == 200
    maria.refresh_from_db()
    assert maria.username == "Maria"


def test_sending_the_same_email_again_needs_no_password(change):
    assert change({"email": "maria@example.com", "username": "mary"}).status_code == 200


# Verification off (the library's default): the change applies at once, the old address is told.


def test_without_verification_the_new_email_applies_at_once(change, maria):
    response = change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert response.json()["email"] == "new@example.org"
    assert response.json()["pending_email"] is None
    maria.refresh_from_db()
    assert maria.email == "new@example.org"


def test_the_old_address_is_told_what_changed_and_whom_to_contact(change, settings):
    settings.AUTHFOLD_SUPPORT_CONTACT = "help@site.example"
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    [notice] = mails_to("maria@example.com")
    assert "new@example.org" in notice.body
    assert "maria" in notice.body
    assert "help@site.example" in notice.body
    assert mails_to("new@example.org") == []


def test_the_notice_names_the_sites_sender_when_no_support_contact_is_set(change, settings):
    settings.DEFAULT_FROM_EMAIL = "accounts@site.example"
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    [notice] = mails_to("maria@example.com")
    assert "accounts@site.example" in notice.body


def test_a_refused_change_tells_nobody(change):
    UserFactory(email="taken@example.org")
    response = change({"email": "taken@example.org", "current_password": DEFAULT_PASSWORD})
    assert error_codes(response) == {"email": ["email_taken"]}
    assert mail.outbox == []


# Verification on: the new address is pending until its key comes back.


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_with_verification_the_new_email_is_pending_and_the_email_unchanged(
    change, maria, settings, mode
):
    verification(settings, mode)
    response = change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert response.json()["email"] == "maria@example.com"
    assert response.json()["pending_email"] == "new@example.org"
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
    [link] = mails_to("new@example.org")
    assert mailed_key(link)
    assert mails_to("maria@example.com") == []


def test_reading_your_account_shows_the_pending_email(change, signed_in, maria, settings):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    assert signed_in(maria).get(ME).json()["pending_email"] == "new@example.org"


def test_the_mailed_key_makes_the_pending_address_the_email_and_tells_the_old_one(
    change, confirm, maria, settings
):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    response = confirm(mailed_key(mails_to("new@example.org")[0]))
    assert response.status_code == 200
    assert response.json() == {"email": "new@example.org"}
    maria.refresh_from_db()
    assert maria.email == "new@example.org"
    assert not PendingEmailChange.objects.exists()
    [notice] = mails_to("maria@example.com")
    assert "new@example.org" in notice.body


def test_a_key_confirms_once(change, confirm, settings):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    key = mailed_key(mails_to("new@example.org")[0])
    assert confirm(key).status_code == 200
    response = confirm(key)
    assert error_codes(response) == {"key": ["key_invalid"]}


def test_a_later_change_makes_the_earlier_key_worthless(change, confirm, maria, settings):
    verification(settings, "optional")
    change({"email": "first@example.org", "current_password": DEFAULT_PASSWORD})
    first_key = mailed_key(mails_to("first@example.org")[0])
    change({"email": "second@example.org", "current_password": DEFAULT_PASSWORD})
    assert error_codes(confirm(first_key)) == {"key": ["key_invalid"]}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"


def test_asking_again_for_the_same_address_makes_the_earlier_key_worthless(
    change, confirm, settings
):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    change({"email": "other@example.org", "current_password": DEFAULT_PASSWORD})
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    first, second = (mailed_key(message) for message in mails_to("new@example.org"))
    assert error_codes(confirm(first)) == {"key": ["key_invalid"]}
    assert confirm(second).status_code == 200


def test_a_key_works_for_the_configured_days_and_then_expires(
    change, confirm, maria, settings, monkeypatch
):
    verification(settings, "optional")
    settings.AUTHFOLD_EMAIL_CONFIRMATION_DAYS = 3
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    key = mailed_key(mails_to("new@example.org")[0])
    now = time.time()
    monkeypatch.setattr(
        signing.time, "time", lambda: now + timedelta(days=3, hours=1).total_seconds()
    )
    response = confirm(key)
    assert error_codes(response) == {"key": ["key_expired"]}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"


# A new password ends what the old one asked for.


def test_a_password_change_drops_a_pending_change_and_its_key_confirms_nothing(
    change, confirm, maria, settings
):
    verification(settings, "optional")
    change({"email": "thief@example.net", "current_password": DEFAULT_PASSWORD})
    key = mailed_key(mails_to("thief@example.net")[0])
    maria.refresh_from_db()
    maria.set_password("the owner's new one")
    maria.save()
    assert not PendingEmailChange.objects.exists()
    assert error_codes(confirm(key)) == {"key": ["key_invalid"]}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"


def test_a_key_sent_before_a_password_set_around_save_confirms_nothing(
    change, confirm, maria, settings
):
    verification(settings, "optional")
    change({"email": "thief@example.net", "current_password": DEFAULT_PASSWORD})
    key = mailed_key(mails_to("thief@example.net")[0])
    User.objects.filter(pk=maria.pk).update(password=make_password("the owner's new one"))
    assert error_codes(confirm(key)) == {"key": ["key_invalid"]}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"


def test_a_sign_up_key_sent_before_a_password_change_confirms_nothing(
    api_client, confirm, settings, django_capture_on_commit_callbacks
):
    verification(settings, "mandatory")
    sign_up(api_client, django_capture_on_commit_callbacks)
    key = mailed_key(mail.outbox[0])
    nadia = User.objects.get(username="nadia")
    nadia.set_password("another pass phrase")
    nadia.save()
    assert error_codes(confirm(key)) == {"key": ["key_invalid"]}
    assert UnconfirmedEmail.objects.filter(user=nadia).exists()


def test_sending_your_current_address_cancels_a_pending_change(change, confirm, maria, settings):
    verification(settings, "optional")
    change({"email": "thief@example.net", "current_password": DEFAULT_PASSWORD})
    key = mailed_key(mails_to("thief@example.net")[0])
    response = change({"email": "maria@example.com"})
    assert response.status_code == 200
    assert response.json()["pending_email"] is None
    assert error_codes(confirm(key)) == {"key": ["key_invalid"]}


def test_a_key_from_before_password_binding_is_refused(confirm, maria):
    """Keys of the earlier shape carried no password digest: they must not outlive a reset."""
    written = UnconfirmedEmail.objects.create(
        user=maria, email=maria.email, created_at=timezone.now()
    ).created_at
    old_shape = signing.dumps([maria.pk, maria.email, stamp(written)], salt=SALT, compress=True)
    assert error_codes(confirm(old_shape)) == {"key": ["key_invalid"]}


@pytest.mark.parametrize("key", ["", "not-a-key", "x" * 1001, 42])
def test_a_malformed_key_is_a_400_with_a_code(confirm, key):
    response = confirm(key)
    assert response.status_code == 400
    assert set(error_codes(response)) == {"key"}


def test_a_key_signed_for_something_else_is_refused(confirm, maria):
    forged = signing.dumps([maria.pk, "thief@example.net", 0], compress=True)
    assert error_codes(confirm(forged)) == {"key": ["key_invalid"]}


def test_a_pending_address_does_not_block_another_accounts_sign_up(change, api_client, settings):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    response = api_client.post(
        "/api/users/",
        {"username": "nadia", "email": "new@example.org", "password": STRONG_PASSWORD},
        format="json",
    )
    assert response.status_code == 201


def test_confirming_an_address_taken_meanwhile_is_refused_and_makes_no_twin(
    change, confirm, maria, settings
):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    key = mailed_key(mails_to("new@example.org")[0])
    UserFactory(username="nadia", email="NEW@example.org")
    response = confirm(key)
    assert error_codes(response) == {"email": ["email_taken"]}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
    assert users_with_email(User.objects.all(), "new@example.org").count() == 1


def test_a_pending_address_is_nobodys_login(change, settings):
    verification(settings, "optional")
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    assert authenticate(username="new@example.org", password=DEFAULT_PASSWORD) is None
    assert authenticate(username="maria@example.com", password=DEFAULT_PASSWORD) is not None


def test_a_pending_address_gets_no_password_reset(change, settings):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    mail.outbox.clear()
    Client().post("/accounts/password/reset/", {"email": "new@example.org"})
    assert mail.outbox == []


# Sign-up under verification.


def sign_up(api_client, django_capture_on_commit_callbacks, email="nadia@example.org"):
    with django_capture_on_commit_callbacks(execute=True):
        return api_client.post(
            "/api/users/",
            {"username": "nadia", "email": email, "password": STRONG_PASSWORD},
            format="json",
        )


def test_without_verification_a_sign_up_sends_no_confirmation(
    api_client, django_capture_on_commit_callbacks
):
    sign_up(api_client, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert not UnconfirmedEmail.objects.exists()


def test_mandatory_a_new_address_logs_in_only_once_confirmed(
    api_client, confirm, settings, django_capture_on_commit_callbacks
):
    verification(settings, "mandatory")
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    sign_up(api_client, django_capture_on_commit_callbacks)
    assert authenticate(username="nadia@example.org", password=STRONG_PASSWORD) is None
    assert confirm(mailed_key(mails_to("nadia@example.org")[0])).status_code == 200
    assert authenticate(username="nadia@example.org", password=STRONG_PASSWORD) is not None


def test_mandatory_the_username_logs_in_before_the_address_is_confirmed(
    api_client, settings, django_capture_on_commit_callbacks
):
    verification(settings, "mandatory")
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    sign_up(api_client, django_capture_on_commit_callbacks)
    response = api_client.post(
        "/api/auth/token/", {"username": "NADIA", "password": STRONG_PASSWORD}, format="json"
    )
    assert response.status_code == 200


def test_mandatory_a_reset_reaches_an_unconfirmed_address_and_following_it_confirms_it(
    api_client, settings, django_capture_on_commit_callbacks
):
    """The address's owner recovers an account someone signed up with her address: the reset
    reaches her, and following it proves the mailbox."""
    verification(settings, "mandatory")
    sign_up(api_client, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    browser = Client()
    browser.post("/accounts/password/reset/", {"email": "nadia@example.org"})
    [reset] = mails_to("nadia@example.org")
    link = re.search(r"(/accounts/password/reset/[^/\s]+/[^/\s]+/)", reset.body)[1]
    form = browser.get(link, follow=True)
    new_password = "a pass phrase of her own"
    done = browser.post(
        form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302
    nadia = User.objects.get(username="nadia")
    assert nadia.check_password(new_password)
    assert not UnconfirmedEmail.objects.filter(user=nadia).exists()


def test_optional_a_new_address_logs_in_at_once_and_is_sent_a_link(
    api_client, settings, django_capture_on_commit_callbacks
):
    verification(settings, "optional")
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    sign_up(api_client, django_capture_on_commit_callbacks)
    assert len(mails_to("nadia@example.org")) == 1
    assert authenticate(username="nadia@example.org", password=STRONG_PASSWORD) is not None


def test_existing_accounts_count_as_confirmed(maria, settings):
    verification(settings, "mandatory")
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    assert authenticate(username="maria@example.com", password=DEFAULT_PASSWORD) == maria


def test_a_confirmed_change_confirms_an_unconfirmed_account(
    api_client, confirm, settings, signed_in, django_capture_on_commit_callbacks
):
    verification(settings, "mandatory")
    sign_up(api_client, django_capture_on_commit_callbacks)
    nadia = User.objects.get(username="nadia")
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(nadia).patch(
            ME, {"email": "nadia@example.net", "current_password": STRONG_PASSWORD}, format="json"
        )
    assert confirm(mailed_key(mails_to("nadia@example.net")[0])).status_code == 200
    assert not UnconfirmedEmail.objects.filter(user=nadia).exists()


def test_an_unknown_verification_mode_fails_loudly(change, settings):
    from django.core.exceptions import ImproperlyConfigured

    verification(settings, "strict")
    with pytest.raises(ImproperlyConfigured):
        change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})


def test_a_legacy_accounts_first_address_applies_but_is_unconfirmed_under_mandatory(
    signed_in, confirm, settings, django_capture_on_commit_callbacks
):
    verification(settings, "mandatory")
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    legacy = UserFactory(username="legacy", email="")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(legacy).patch(
            ME, {"email": "legacy@example.org", "current_password": DEFAULT_PASSWORD}, format="json"
        )
    assert response.json()["email"] == "legacy@example.org"
    assert authenticate(username="legacy@example.org", password=DEFAULT_PASSWORD) is None
    assert confirm(mailed_key(mails_to("legacy@example.org")[0])).status_code == 200
    assert authenticate(username="legacy@example.org", password=DEFAULT_PASSWORD) == legacy


@pytest.fixture
def racing_account(monkeypatch):
    """Another account takes the address right after the confirmation's check, before its save
    (as a request racing it would)."""
    from authfold.accounts import email_verification

    checked = email_verification.validate_email_unclaimed

    def check_then_lose_the_race(email, exclude_pk=None):
        checked(email, exclude_pk)
        UserFactory(username="nadia", email=email.upper())

    monkeypatch.setattr(email_verification, "validate_email_unclaimed", check_then_lose_the_race)


def test_an_address_taken_between_the_check_and_the_save_is_a_400_on_the_api(
    change, confirm, maria, settings, racing_account
):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    response = confirm(mailed_key(mails_to("new@example.org")[0]))
    assert error_codes(response) == {"email": ["email_taken"]}
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"


def test_an_address_taken_between_the_check_and_the_save_is_a_400_on_the_page(
    change, maria, settings, racing_account
):
    verification(settings, "optional")
    change({"email": "new@example.org", "current_password": DEFAULT_PASSWORD})
    key = mailed_key(mails_to("new@example.org")[0])
    response = Client().post(f"/accounts/email/confirm/{key}/")
    assert response.status_code == 400
    assert response.context["codes"] == ["email_taken"]
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"
