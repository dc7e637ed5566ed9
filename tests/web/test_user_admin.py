"""The admin's add and change user forms apply the one rule, and a save that loses the race for a
name comes back as a form error, never a 500."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from authfold.accounts.admin import UserAdmin
from authfold.accounts.forms import UserAddForm, UserChangeForm
from tests.factories import UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes, new_account_data, take_after_check

pytestmark = pytest.mark.django_db

User = get_user_model()


def change_data(user, **changes):
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "12:00:00",
    }
    data.update(changes)
    return data


# (existing account, what is typed, the field refused, the code)
ADD_REFUSALS = {
    "caseless twin": ({"username": "maria"}, {"username": "MARIA"}, "username", "username_taken"),
    "Unicode twin": ({"username": "Straße"}, {"username": "STRASSE"}, "username", "username_taken"),
    "shared email in another case": (
        {"email": "maria@example.com"},
        {"email": "MARIA@EXAMPLE.COM"},
        "email",
        "email_taken",
    ),
    "missing email": (None, {"email": ""}, "email", "email_required"),
    "common password": (None, {"password1": "password123"}, "password2", "password_too_common"),
    "password like the username": (
        None,
        {"username": "margarita.lopez", "password1": "margarita.lopez"},
        "password2",
        "password_too_similar",
    ),
    "confusable": (None, {"username": "pаypal"}, "username", "username_confusable"),
    "reserved": (None, {"username": "root"}, "username", "username_reserved"),
    "151 characters": (None, {"username": "a" * 151}, "username", "username_too_long"),
}


def test_the_admin_registers_our_user_admin():
    assert type(admin.site._registry[User]) is UserAdmin


@pytest.mark.parametrize(
    ("existing", "typed", "field", "code"), ADD_REFUSALS.values(), ids=ADD_REFUSALS
)
def test_admin_add_user_refuses_and_names_the_field(admin_client, existing, typed, field, code):
    if existing:
        UserFactory(**existing)
    accounts_before = User.objects.count()
    response = admin_client.post(reverse("admin:auth_user_add"), new_account_data(**typed))
    assert response.status_code == 200
    assert code in error_codes(response, field)
    assert User.objects.count() == accounts_before


def test_admin_add_user_creates_the_account_with_email_and_password(admin_client):
    response = admin_client.post(
        reverse("admin:auth_user_add"), new_account_data(email="maria@EXAMPLE.com")
    )
    assert response.status_code == 302
    user = User.objects.get(username="maria")
    assert user.email == "maria@example.com"
    assert user.check_password(STRONG_PASSWORD)


CHANGE_REFUSALS = {
    "caseless twin": ({"username": "john"}, {"username": "John"}, "username", "username_taken"),
    "Unicode twin": ({"username": "ǆemal"}, {"username": "ǅemal"}, "username", "username_taken"),
    "shared email in another case": (
        {"email": "john@example.com"},
        {"email": "JOHN@example.com"},
        "email",
        "email_taken",
    ),
    "missing email": (None, {"email": ""}, "email", "email_required"),
    "confusable": (None, {"username": "pаypal"}, "username", "username_confusable"),
    "151 characters": (None, {"username": "a" * 151}, "username", "username_too_long"),
}


@pytest.mark.parametrize(
    ("other", "typed", "field", "code"), CHANGE_REFUSALS.values(), ids=CHANGE_REFUSALS
)
def test_admin_change_user_refuses_and_keeps_the_account(admin_client, other, typed, field, code):
    if other:
        UserFactory(**other)
    maria = UserFactory(username="maria", email="maria@example.com")
    url = reverse("admin:auth_user_change", args=[maria.pk])
    response = admin_client.post(url, change_data(maria, **typed))
    assert response.status_code == 200
    assert code in error_codes(response, field)
    maria.refresh_from_db()
    assert (maria.username, maria.email) == ("maria", "maria@example.com")


def test_admin_change_user_may_change_the_case_of_the_same_username(admin_client):
    maria = UserFactory(username="maria", email="maria@example.com")
    url = reverse("admin:auth_user_change", args=[maria.pk])
    response = admin_client.post(url, change_data(maria, username="MARIA"))
    assert response.status_code == 302
    maria.refresh_from_db()
    assert maria.username == "MARIA"


def test_admin_add_user_that_loses_the_race_shows_a_field_error(admin_client, monkeypatch):
    take_after_check(monkeypatch, UserAddForm, username="MARIA", email="other@example.com")
    response = admin_client.post(reverse("admin:auth_user_add"), new_account_data())
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
    assert not User.objects.filter(username="maria").exists()


def test_admin_change_user_that_loses_the_race_shows_a_field_error(admin_client, monkeypatch):
    maria = UserFactory(username="maria", email="maria@example.com")
    take_after_check(monkeypatch, UserChangeForm, username="MARIA.G", email="other@example.com")
    url = reverse("admin:auth_user_change", args=[maria.pk])
    response = admin_client.post(url, change_data(maria, username="maria.g"))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
    maria.refresh_from_db()
    assert maria.username == "maria"
