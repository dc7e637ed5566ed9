"""/accounts/signup/ applies the one rule: every refusal shows its code on the field, creates
nothing and never answers 500; a valid sign-up creates the account and logs the person in."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from authfold.accounts.forms import SignUpForm
from tests.factories import UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes, new_account_data, take_after_check

pytestmark = pytest.mark.django_db

User = get_user_model()


# (existing account, what is typed, the field refused, the code)
REFUSALS = {
    "caseless twin": ({"username": "maria"}, {"username": "MARIA"}, "username", "username_taken"),
    "Unicode twin": ({"username": "Straße"}, {"username": "STRASSE"}, "username", "username_taken"),
    "fullwidth twin": (
        {"username": "maria"},
        {"username": "ＭＡＲＩＡ"},
        "username",
        "username_taken",
    ),
    "shared email in another case": (
        {"email": "maria@example.com"},
        {"email": "MARIA@Example.COM"},
        "email",
        "email_taken",
    ),
    "missing email": (None, {"email": ""}, "email", "email_required"),
    "blank email": (None, {"email": "   "}, "email", "email_required"),
    "invalid email": (None, {"email": "maria.example.com"}, "email", "invalid"),
    "short password": (None, {"password1": "k3t!"}, "password2", "password_too_short"),
    "common password": (None, {"password1": "password123"}, "password2", "password_too_common"),
    "numeric password": (
        None,
        {"password1": "8374926104"},
        "password2",
        "password_entirely_numeric",
    ),
    "password like the username": (
        None,
        {"username": "margarita.lopez", "password1": "margarita.lopez"},
        "password2",
        "password_too_similar",
    ),
    "password like the email": (
        None,
        {"email": "kowalczyk@example.com", "password1": "kowalczyk!"},
        "password2",
        "password_too_similar",
    ),
    "passwords that differ": (
        None,
        {"password2": "another long phrase"},
        "password2",
        "password_mismatch",
    ),
    "confusable": (None, {"username": "pаypal"}, "username", "username_confusable"),
    "reserved": (None, {"username": "Admin"}, "username", "username_reserved"),
    "151 characters": (None, {"username": "a" * 151}, "username", "username_too_long"),
    "forbidden characters": (None, {"username": "maria garcia!"}, "username", "invalid"),
    "missing username": (None, {"username": ""}, "username", "required"),
}


@pytest.mark.parametrize(("existing", "typed", "field", "code"), REFUSALS.values(), ids=REFUSALS)
def test_signup_refuses_and_names_the_field(client, existing, typed, field, code):
    if existing:
        UserFactory(**existing)
    accounts_before = User.objects.count()
    response = client.post(reverse("authfold:signup"), new_account_data(**typed))
    assert response.status_code == 200
    assert code in error_codes(response, field)
    assert User.objects.count() == accounts_before


def test_signup_creates_the_account_and_logs_in(client):
    response = client.post(reverse("authfold:signup"), new_account_data(email="maria@EXAMPLE.com"))
    assert response.status_code == 302
    assert response.url == reverse("authfold:profile")
    user = User.objects.get()
    assert (user.username, user.email) == ("maria", "maria@example.com")
    assert user.check_password(STRONG_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_stores_the_username_nfkc_normalised(client):
    client.post(reverse("authfold:signup"), new_account_data(username="ｍａｒｉａ"))
    assert User.objects.get().username == "maria"


def test_signup_accepts_a_single_script_non_latin_username(client):
    client.post(reverse("authfold:signup"), new_account_data(username="Джон"))
    assert User.objects.get().username == "Джон"


def test_signup_that_loses_the_race_for_a_username_shows_a_field_error(client, monkeypatch):
    take_after_check(monkeypatch, SignUpForm, username="Maria", email="other@example.com")
    response = client.post(reverse("authfold:signup"), new_account_data(username="maria"))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
    assert list(User.objects.values_list("username", flat=True)) == ["Maria"]
    assert "_auth_user_id" not in client.session


def test_signed_in_person_is_sent_from_signup_to_the_profile(client):
    client.force_login(UserFactory())
    response = client.get(reverse("authfold:signup"))
    assert response.status_code == 302
    assert response.url == reverse("authfold:profile")


@pytest.mark.django_db(transaction=True)
def test_signup_that_loses_the_race_for_an_email_shows_a_field_error(client, monkeypatch):
    take_after_check(monkeypatch, SignUpForm, username="john", email="MARIA@example.com")
    response = client.post(reverse("authfold:signup"), new_account_data(email="maria@example.com"))
    assert response.status_code == 200
    assert error_codes(response, "email") == {"email_taken"}
    assert list(User.objects.values_list("username", flat=True)) == ["john"]


def test_closed_signup_page_answers_403_and_creates_nothing(client, settings):
    settings.AUTHFOLD_SIGNUP_OPEN = False
    assert client.get(reverse("authfold:signup")).status_code == 403
    response = client.post(reverse("authfold:signup"), new_account_data())
    assert response.status_code == 403
    assert not User.objects.exists()


def test_pages_offer_the_signup_link_only_while_signup_is_open(client, settings):
    link = f'href="{reverse("authfold:signup")}"'
    assert link in client.get(reverse("authfold:login")).content.decode()
    settings.AUTHFOLD_SIGNUP_OPEN = False
    assert link not in client.get(reverse("authfold:login")).content.decode()
