"""GET/PATCH /api/users/me/: the signed-in account, its username and email changed under the same
rule as sign-up (an account may change the case of its own name)."""

import pytest
from django.contrib.auth import get_user_model

from tests.api.errors import error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
URL = "/api/users/me/"


def test_reading_your_account_needs_credentials(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_changing_your_account_needs_credentials(api_client):
    assert api_client.patch(URL, {"username": "x"}, format="json").status_code == 401


def test_reading_your_account_shows_id_username_and_email(signed_in):
    user = UserFactory(username="maria", email="maria@example.com")
    response = signed_in(user).get(URL)
    assert response.json() == {
        "id": user.pk,
        "username": "maria",
        "email": "maria@example.com",
        "email_confirmed": True,
        "pending_email": None,
    }


def test_an_account_may_change_the_case_of_its_own_username(signed_in):
    user = UserFactory(username="maria")
    response = signed_in(user).patch(URL, {"username": "Maria"}, format="json")
    assert response.status_code == 200
    assert response.json()["username"] == "Maria"
    user.refresh_from_db()
    assert user.username == "Maria"


def test_an_account_may_change_the_case_of_its_own_email(signed_in):
    user = UserFactory(email="maria@example.com")
    response = signed_in(user).patch(
        URL, {"email": "Maria@Example.com", "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email == "Maria@example.com"


def test_a_new_username_is_stored_nfkc_normalised(signed_in):
    user = UserFactory(username="maria")
    response = signed_in(user).patch(URL, {"username": "ｍａｒｉａ２"}, format="json")
    assert response.json()["username"] == "maria2"


@pytest.mark.parametrize(
    ("taken", "wanted"), [("john", "JOHN"), ("Straße", "strasse"), ("Джон", "ДЖОН")]
)
def test_renaming_into_another_accounts_name_in_any_case_is_refused(signed_in, taken, wanted):
    UserFactory(username=taken)
    user = UserFactory(username="maria")
    response = signed_in(user).patch(URL, {"username": wanted}, format="json")
    assert response.status_code == 400
    assert error_codes(response) == {"username": ["username_taken"]}
    user.refresh_from_db()
    assert user.username == "maria"


def test_taking_another_accounts_email_in_any_case_is_refused(signed_in):
    UserFactory(email="john@example.com")
    user = UserFactory(email="maria@example.com")
    response = signed_in(user).patch(URL, {"email": "JOHN@example.COM"}, format="json")
    assert error_codes(response) == {"email": ["email_taken"]}
    user.refresh_from_db()
    assert user.email == "maria@example.com"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("username", "", "blank"),
        ("username", "a" * 151, "username_too_long"),
        ("username", "a" * 10_000, "username_too_long"),
        ("username", "pаypal", "username_confusable"),
        ("username", "Support", "username_reserved"),
        ("username", 42, "invalid"),
        ("username", ["maria"], "invalid"),
        ("username", None, "null"),
        ("username", "ma\x00ria", "null_characters_not_allowed"),
        ("email", "", "email_required"),
        ("email", "not-an-email", "invalid"),
        ("email", "x" * 10_000 + "@example.com", "email_too_long"),
        ("email", {"address": "maria@example.com"}, "invalid"),
        ("email", False, "invalid"),
    ],
)
def test_an_invalid_change_is_refused_and_changes_nothing(signed_in, field, value, code):
    user = UserFactory(username="maria", email="maria@example.com")
    response = signed_in(user).patch(URL, {field: value}, format="json")
    assert response.status_code == 400
    assert error_codes(response) == {field: [code]}
    user.refresh_from_db()
    assert (user.username, user.email) == ("maria", "maria@example.com")


def test_an_account_without_an_email_must_add_one_with_its_first_change(signed_in):
    user = UserFactory(username="maria", email="")
    client = signed_in(user)
    response = client.patch(URL, {"username": "Maria"}, format="json")
    assert error_codes(response) == {"email": ["email_required"]}
    response = client.patch(
        URL,
        {"username": "Maria", "email": "m@example.com", "current_password": DEFAULT_PASSWORD},
        format="json",
    )
    assert response.status_code == 200


def test_fields_other_than_username_and_email_are_ignored(signed_in):
    user = UserFactory(username="maria")
    body = {"is_staff": True, "is_superuser": True, "password": "x", "id": 999}
    response = signed_in(user).patch(URL, body, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.pk, user.is_staff, user.is_superuser) == (response.json()["id"], False, False)


def test_a_body_that_is_not_json_is_refused(signed_in):
    user = UserFactory()
    response = signed_in(user).patch(URL, '{"username": ', content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_replacing_the_whole_account_with_put_is_not_offered(signed_in):
    user = UserFactory()
    response = signed_in(user).put(URL, {"username": "x", "email": "x@example.com"}, format="json")
    assert response.status_code == 405


def test_changes_beyond_the_profile_rate_are_throttled_but_reading_is_not(signed_in, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"profile": "2/hour"},
    }
    client = signed_in(UserFactory(username="maria"))
    assert client.patch(URL, {"username": "Maria"}, format="json").status_code == 200
    assert client.patch(URL, {"username": "MARIA"}, format="json").status_code == 200
    response = client.patch(URL, {"username": "maria"}, format="json")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert client.get(URL).status_code == 200


def test_the_demo_site_declares_a_default_profile_rate(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["profile"] == "30/hour"
