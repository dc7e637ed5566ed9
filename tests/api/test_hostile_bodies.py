"""Hostile request bodies get a 4xx, and cheaply: JSON nested too deep is a 400, a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` a 413 before it is read, and a username or email over its length
is refused before any password validator sees it. (Through a real server:
``tests/test_hostile_bodies_under_gunicorn.py``.)"""

import json

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from authfold.accounts.api.parsers import JSONParser
from tests.factories import UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes

pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 50_000 + "]" * 50_000
# A username of one-letter parts, the similarity validator's worst case (seconds of CPU
# when it reached the password validators).
LONG_USERNAME = " ".join("abcdefghij"[n % 10] for n in range(1_200_000))
LONG_EMAIL = "a" * 300 + "@example.com"


class RecordingValidator:
    """A password validator that notes the username and email of every user it is shown."""

    seen = []

    def validate(self, password, user=None):
        self.seen.append((getattr(user, "username", None), getattr(user, "email", None)))

    def get_help_text(self):
        return "Recorded."


@pytest.fixture
def recorded(settings):
    """The (username, email) pairs the password validators were shown during the test."""
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": f"{__name__}.RecordingValidator"},
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    ]
    RecordingValidator.seen = []
    yield RecordingValidator.seen


def deep_json_answer(path, method):
    client = APIClient()
    if path == "/api/users/me/":
        client.force_authenticate(UserFactory())
    return getattr(client, method)(path, DEEP_JSON, content_type="application/json")


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/users/", "post"), ("/api/auth/token/", "post"), ("/api/users/me/", "patch")],
)
def test_json_nested_fifty_thousand_deep_is_a_400(path, method):
    response = deep_json_answer(path, method)
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the body is nested too deeply."}


def test_the_demo_sets_our_parsers_for_every_drf_view(settings):
    """A host's own API views get the same answers from the settings the docs give."""
    assert settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"][0] == (
        f"{JSONParser.__module__}.{JSONParser.__qualname__}"
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps({"username": "maria", "email": "x" * 200_000})),
        ("application/x-www-form-urlencoded", "username=maria&email=" + "x" * 200_000),
        (
            "multipart/form-data; boundary=BOUNDARY",
            '--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            "\r\n" + "x" * 200_000 + "\r\n--BOUNDARY--\r\n",
        ),
    ],
    ids=["json", "form", "multipart-file"],
)
def test_a_sign_up_body_over_the_size_limit_is_a_413(content_type, body, recorded):
    response = APIClient().post("/api/users/", body, content_type=content_type)
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is too large."
    assert recorded == []


def test_a_login_body_over_the_size_limit_is_a_413():
    body = json.dumps({"username": "maria", "password": "x" * 200_000})
    response = APIClient().post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 413


def test_the_largest_valid_sign_up_body_fits_under_the_demos_limit(settings):
    """A 4096-character password of astral characters, each sent as a JSON escape pair."""
    body = json.dumps(
        {"username": "maria", "email": "maria@example.com", "password": "\U0001f600" * 4096}
    )
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = APIClient().post("/api/users/", body, content_type="application/json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [(LONG_USERNAME, "maria@example.com", "username"), ("maria", LONG_EMAIL, "email")],
    ids=["username", "email"],
)
def test_api_sign_up_refuses_an_over_long_name_before_any_password_validator(
    settings, recorded, username, email, field
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None  # a host without a body limit: 2.4 MB arrives
    response = APIClient().post(
        "/api/users/",
        {"username": username, "email": email, "password": STRONG_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert recorded == []


def test_api_sign_up_still_shows_the_password_validators_a_name_within_its_length(recorded):
    UserFactory(username="maria")
    response = APIClient().post(
        "/api/users/",
        {"username": "MARIA", "email": "new@example.com", "password": "new"},
        format="json",
    )
    assert response.status_code == 400
    assert recorded == [("MARIA", "new@example.com")]


def web_sign_up(client, username, email):
    return client.post(
        reverse("authfold:signup"),
        {
            "username": username,
            "email": email,
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )


@pytest.mark.parametrize(
    ("username", "email", "field", "code"),
    [
        (LONG_USERNAME[:100_001], "maria@example.com", "username", "username_too_long"),
        ("maria", LONG_EMAIL, "email", "max_length"),
    ],
    ids=["username", "email"],
)
def test_web_sign_up_refuses_an_over_long_name_before_any_password_validator(
    client, recorded, username, email, field, code
):
    response = web_sign_up(client, username, email)
    assert response.status_code == 200
    assert code in error_codes(response, field)
    assert recorded == []


def test_web_sign_up_still_shows_the_password_validators_a_name_within_its_length(client, recorded):
    web_sign_up(client, "maria", "maria@example.com")
    assert recorded == [("maria", "maria@example.com")]


def test_a_web_form_body_over_the_size_limit_is_a_400(recorded):
    response = Client(raise_request_exception=False).post(
        reverse("authfold:signup"),
        "username=" + "x" * 200_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert recorded == []


def test_the_admins_add_user_form_refuses_an_over_long_name_before_any_password_validator(
    admin_client, recorded
):
    recorded.clear()  # the admin fixture's own user was made before
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": LONG_USERNAME[:100_001],
            "email": "maria@example.com",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert "username_too_long" in error_codes(response, "username")
    assert recorded == []
