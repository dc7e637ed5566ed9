"""POST /api/users/: the classic registration cases, their caseless and Unicode twins, and strict
input. Every refusal is a 400 naming the field, with the validators' code, and creates nothing."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.api.errors import error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
URL = "/api/users/"


def sign_up(client, **fields):
    body = {"username": "maria", "email": "maria@example.com", "password": DEFAULT_PASSWORD}
    body.update(fields)
    return client.post(URL, body, format="json")


def assert_refused_creating_nothing(response, field, code, accounts_before=0):
    assert response.status_code == 400, response.data
    assert error_codes(response) == {field: [code]}
    assert User.objects.count() == accounts_before
    assert not Token.objects.exists()


def test_valid_sign_up_answers_201_with_the_accounts_token_and_no_password(api_client):
    response = sign_up(api_client)
    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {
        "id": user.pk,
        "username": "maria",
        "email": "maria@example.com",
        "email_confirmed": True,
        "token": Token.objects.get(user=user).key,
    }
    assert user.check_password(DEFAULT_PASSWORD)


def test_the_returned_token_authenticates_the_new_account(api_client):
    token = sign_up(api_client).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/users/me/").json()["username"] == "maria"


def test_sign_up_stores_the_nfkc_username_and_the_lowercased_email_domain(api_client):
    response = sign_up(api_client, username="ｍａｒｉａ", email="Maria@EXAMPLE.com")
    assert response.status_code == 201
    assert response.json()["username"] == "maria"
    assert User.objects.get().email == "Maria@example.com"


def test_sign_up_accepts_a_form_encoded_body(api_client):
    body = {"username": "maria", "email": "maria@example.com", "password": DEFAULT_PASSWORD}
    assert api_client.post(URL, body).status_code == 201


def test_sign_up_ignores_credentials_sent_along(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert sign_up(api_client).status_code == 201


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Zq8!", "password_too_short"),
        ("", "blank"),
        ("qwertyuiop", "password_too_common"),
        ("PASSWORD1", "password_too_common"),
        ("73829104615", "password_entirely_numeric"),
    ],
)
def test_weak_password_is_refused(api_client, password, code):
    assert_refused_creating_nothing(sign_up(api_client, password=password), "password", code)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("mariagarcia", "mariagarcia1"),
        ("MariaGarcia", "mariagarcia1"),
        ("MARIAGARCIA", "MariaGarcia"),
    ],
)
def test_password_too_similar_to_the_username_in_any_case_is_refused(
    api_client, username, password
):
    response = sign_up(api_client, username=username, password=password)
    assert_refused_creating_nothing(response, "password", "password_too_similar")


def test_password_too_similar_to_the_email_is_refused(api_client):
    response = sign_up(api_client, email="quixotic.zebra@example.com", password="quixoticzebra")
    assert_refused_creating_nothing(response, "password", "password_too_similar")


def test_a_password_is_never_echoed_in_a_refusal(api_client):
    response = sign_up(api_client, username="", password="secret-Sauce-91")
    assert "secret-Sauce-91" not in response.content.decode()


@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("", "blank"),
        ("   ", "blank"),
        ("a" * 151, "username_too_long"),
        ("ß" * 151, "username_too_long"),
        ("ｍ" * 151, "username_too_long"),
        ("maria garcia!", "invalid"),
        ("pаypal", "username_confusable"),
        ("ＡＤＭＩＮ", "username_reserved"),
    ],
)
def test_invalid_username_is_refused(api_client, username, code):
    assert_refused_creating_nothing(sign_up(api_client, username=username), "username", code)


def test_username_of_150_characters_is_accepted(api_client):
    assert sign_up(api_client, username="ß" * 150).status_code == 201


@pytest.mark.parametrize(
    ("taken", "twin"),
    [
        ("maria", "maria"),
        ("maria", "MARIA"),
        ("Maria", "mAria"),
        ("maria", "ＭＡＲＩＡ"),
        ("Straße", "STRASSE"),
        ("strasse", "Straße"),
        ("ǅemal", "ǆemal"),
        ("Джон", "джон"),
    ],
)
def test_username_taken_in_any_case_is_refused(api_client, taken, twin):
    UserFactory(username=taken, email="first@example.com")
    response = sign_up(api_client, username=twin)
    assert_refused_creating_nothing(response, "username", "username_taken", accounts_before=1)


@pytest.mark.parametrize(("taken", "other"), [("istanbul", "İstanbul"), ("strase", "Straße")])
def test_usernames_the_rule_tells_apart_are_not_taken(api_client, settings, taken, other):
    # İstanbul looks like istanbul, which the look-alike rule refuses (tests/test_lookalikes.py).
    settings.AUTHFOLD_REFUSE_LOOKALIKES = False
    UserFactory(username=taken, email="first@example.com")
    assert sign_up(api_client, username=other).status_code == 201


@pytest.mark.parametrize(
    ("taken", "twin"),
    [
        ("maria@example.com", "maria@example.com"),
        ("maria@example.com", "MARIA@EXAMPLE.COM"),
        ("Maria@Example.com", "maria@example.com"),
        ("straße@example.com", "STRASSE@example.com"),
        ("ｍａｒｉａ@example.com", "maria@example.com"),
    ],
)
def test_email_taken_in_any_case_is_refused(api_client, taken, twin):
    UserFactory(username="someone", email=taken)
    response = sign_up(api_client, email=twin)
    assert_refused_creating_nothing(response, "email", "email_taken", accounts_before=1)


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("", "email_required"),
        ("   ", "email_required"),
        ("not-an-email", "invalid"),
        ("maria@", "invalid"),
        ("maria@exa mple.com", "invalid"),
        # Lowercasing the domain lengthens it ("İ" becomes two characters) past the column's 254.
        ("a" * 200 + "@" + "İ" * 30 + ".com", "email_too_long"),
    ],
)
def test_invalid_email_is_refused(api_client, email, code):
    assert_refused_creating_nothing(sign_up(api_client, email=email), "email", code)


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_missing_field_is_refused(api_client, field):
    body = {"username": "maria", "email": "maria@example.com", "password": DEFAULT_PASSWORD}
    del body[field]
    response = api_client.post(URL, body, format="json")
    assert_refused_creating_nothing(response, field, "required")


def test_every_refused_field_is_reported_at_once(api_client):
    UserFactory(username="maria", email="maria@example.com")
    response = sign_up(api_client, username="MARIA", email="Maria@Example.com", password="Zq8!")
    assert error_codes(response) == {
        "username": ["username_taken"],
        "email": ["email_taken"],
        "password": ["password_too_short"],
    }


@pytest.mark.parametrize("field", ["username", "email", "password"])
@pytest.mark.parametrize(
    ("value", "code"),
    [
        (123, "invalid"),
        (1.5, "invalid"),
        (True, "invalid"),
        ([], "invalid"),
        (["maria"], "invalid"),
        ({}, "invalid"),
        ({"value": "maria"}, "invalid"),
        (None, "null"),
        ("ma\x00ria", "null_characters_not_allowed"),
    ],
)
def test_a_value_that_is_not_a_clean_string_is_refused(api_client, field, value, code):
    assert_refused_creating_nothing(sign_up(api_client, **{field: value}), field, code)


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_a_lone_surrogate_is_refused(api_client, field):
    body = '{"username": "maria", "email": "maria@example.com", "password": "%s"}'
    body = body.replace(f'"{field}": "', f'"{field}": "\\ud800').replace("%s", DEFAULT_PASSWORD)
    response = api_client.post(URL, body, content_type="application/json")
    assert_refused_creating_nothing(response, field, "surrogate_characters_not_allowed")


@pytest.mark.parametrize(
    ("field", "code"),
    [("username", "username_too_long"), ("email", "email_too_long"), ("password", "max_length")],
)
def test_a_10000_character_value_is_refused(api_client, field, code):
    value = "x" * 10_000 if field != "email" else "x" * 10_000 + "@example.com"
    assert_refused_creating_nothing(sign_up(api_client, **{field: value}), field, code)


@pytest.mark.parametrize(
    "body", ['{"username": "maria", ', "not json", '{"username": NaN}', "\x00", ""]
)
def test_a_body_that_is_not_json_is_refused(api_client, body):
    response = api_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) <= {"detail", "username", "email", "password"}
    assert not User.objects.exists()


@pytest.mark.parametrize("body", ["[]", '["maria"]', '"maria"', "42", "null"])
def test_a_json_body_that_is_not_an_object_is_refused(api_client, body):
    response = api_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert not User.objects.exists()


def test_sign_ups_beyond_the_register_rate_are_throttled(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"register": "2/hour"},
    }
    assert sign_up(api_client, username="ana", email="ana@example.com").status_code == 201
    assert sign_up(api_client, username="bob", email="bob@example.com").status_code == 201
    response = sign_up(api_client, username="carl", email="carl@example.com")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert not User.objects.filter(username="carl").exists()


def test_refused_sign_ups_do_not_count_toward_the_register_rate(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"register": "1/hour"},
    }
    assert sign_up(api_client, username="").status_code == 400
    assert sign_up(api_client, username="ana", email="ana@example.com").status_code == 201


def test_the_demo_site_declares_a_default_register_rate(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["register"] == "10/hour"


def test_sign_up_stays_throttled_when_the_project_sets_no_register_rate(api_client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    for _attempt in range(10):
        sign_up(api_client, username="")
    assert sign_up(api_client).status_code == 429


def test_closed_sign_up_answers_403_signup_closed_and_creates_nothing(api_client, settings):
    settings.AUTHFOLD_SIGNUP_OPEN = False
    response = sign_up(api_client)
    assert response.status_code == 403
    assert response.data["detail"].code == "signup_closed"
    assert not User.objects.exists()
