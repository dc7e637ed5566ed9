"""/accounts/profile/ applies the one rule to a changed username or email, excluding the account
itself (``maria`` may become ``Maria``); a refused change leaves the account as it was."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from authfold.accounts.forms import ProfileForm
from authfold.accounts.keys import CaselessConflict
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import error_codes, take_after_check

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def maria(client):
    user = UserFactory(username="maria", email="maria@example.com")
    client.force_login(user)
    return user


def profile_data(**changes):
    data = {"username": "maria", "email": "maria@example.com", "first_name": "", "last_name": ""}
    data.update(changes)
    return data


# (another account, what is typed, the field refused, the code)
REFUSALS = {
    "caseless twin": ({"username": "john"}, {"username": "JOHN"}, "username", "username_taken"),
    "Unicode twin": ({"username": "Straße"}, {"username": "STRASSE"}, "username", "username_taken"),
    "shared email in another case": (
        {"email": "john@example.com"},
        {"email": "John@EXAMPLE.com"},
        "email",
        "email_taken",
    ),
    "missing email": (None, {"email": ""}, "email", "email_required"),
    "confusable": (None, {"username": "pаypal"}, "username", "username_confusable"),
    "reserved": (None, {"username": "SUPPORT"}, "username", "username_reserved"),
    "151 characters": (None, {"username": "m" * 151}, "username", "username_too_long"),
}


@pytest.mark.parametrize(("other", "typed", "field", "code"), REFUSALS.values(), ids=REFUSALS)
def test_profile_refuses_and_keeps_the_account_as_it_was(client, maria, other, typed, field, code):
    if other:
        UserFactory(**other)
    response = client.post(reverse("authfold:profile"), profile_data(**typed))
    assert response.status_code == 200
    assert code in error_codes(response, field)
    maria.refresh_from_db()
    assert (maria.username, maria.email) == ("maria", "maria@example.com")


def test_profile_page_header_keeps_the_real_username_after_a_refusal(client, maria):
    UserFactory(username="john")
    response = client.post(reverse("authfold:profile"), profile_data(username="JOHN"))
    assert response.context["user"].username == "maria"


def test_profile_lets_an_account_change_the_case_of_its_own_username(client, maria):
    response = client.post(reverse("authfold:profile"), profile_data(username="Maria"))
    assert response.status_code == 302
    maria.refresh_from_db()
    assert maria.username == "Maria"


def test_profile_lets_an_account_keep_its_email_in_another_case(client, maria):
    response = client.post(
        reverse("authfold:profile"),
        profile_data(email="Maria@Example.com", current_password=DEFAULT_PASSWORD),
    )
    assert response.status_code == 302
    maria.refresh_from_db()
    assert maria.email == "Maria@example.com"


def test_profile_saves_names_and_a_new_username(client, maria):
    client.post(
        reverse("authfold:profile"),
        profile_data(username="maria.garcia", first_name="María", last_name="García"),
    )
    maria.refresh_from_db()
    assert (maria.username, maria.first_name, maria.last_name) == (
        "maria.garcia",
        "María",
        "García",
    )


def test_profile_asks_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("authfold:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("authfold:login"))


def test_profile_change_that_loses_the_race_shows_a_field_error(client, maria, monkeypatch):
    take_after_check(monkeypatch, ProfileForm, username="MARIA.G", email="other@example.com")
    response = client.post(reverse("authfold:profile"), profile_data(username="maria.g"))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
    maria.refresh_from_db()
    assert maria.username == "maria"


def test_a_refused_email_reaches_the_email_field(maria):
    """When the database refuses an email (the email constraint), the form names the email."""
    form = ProfileForm(profile_data(), instance=maria)
    assert form.is_valid()
    form.add_conflict_error(CaselessConflict("email", "maria@example.com"))
    assert {error.code for error in form.errors.as_data()["email"]} == {"email_taken"}


def test_profile_keeps_an_unchanged_legacy_email_shared_with_another_account(client, maria):
    """bulk_create writes around Model.save(): the legacy row predates the rule."""
    User.objects.bulk_create([User(username="legacy", email="MARIA@example.com")])
    response = client.post(reverse("authfold:profile"), profile_data(first_name="María"))
    assert response.status_code == 302
    maria.refresh_from_db()
    assert maria.first_name == "María"


def test_profile_keeps_an_unchanged_username_that_is_now_reserved(client, settings):
    settings.AUTHFOLD_RESERVED_USERNAMES = True
    support = UserFactory(username="support", email="support@example.com")
    client.force_login(support)
    response = client.post(
        reverse("authfold:profile"),
        profile_data(username="support", email="support@example.com", last_name="Desk"),
    )
    assert response.status_code == 302
    support.refresh_from_db()
    assert support.last_name == "Desk"


def test_profile_asks_a_legacy_account_without_email_for_one(client):
    User.objects.bulk_create([User(username="maria", email="")])
    client.force_login(User.objects.get())
    response = client.post(reverse("authfold:profile"), profile_data(email="", first_name="María"))
    assert error_codes(response, "email") == {"email_required"}
