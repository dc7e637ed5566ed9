"""Logging in with any case of the username on the host's page, on authfold's page and through
authfold's API, while the host's own email backend keeps logging people in by email."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.urls import reverse

from tests.people import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_hosts_login_page_accepts_any_case_of_the_username(client, make_user):
    maria = make_user("Maria")
    response = client.post(reverse("accounts:login"), {"username": "mARIA", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(maria.pk)


def test_authfold_login_page_accepts_any_case_of_the_username(client, make_user):
    maria = make_user("Maria")
    response = client.post(reverse("authfold:login"), {"username": "MARIA", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(maria.pk)


def test_the_api_token_login_accepts_any_case_of_the_username(client, make_user):
    maria = make_user("Maria")
    exact = client.post(
        reverse("authfold_api:auth-token"),
        {"username": "Maria", "password": PASSWORD},
        content_type="application/json",
    )
    other_case = client.post(
        reverse("authfold_api:auth-token"),
        {"username": "maria", "password": PASSWORD},
        content_type="application/json",
    )
    assert other_case.status_code == 200
    assert other_case.json()["token"] == exact.json()["token"] == maria.auth_token.key


def test_the_hosts_email_backend_still_logs_in_by_email(client, make_user):
    maria = make_user("maria", email="maria.garcia@example.com")
    response = client.post(
        reverse("accounts:login"),
        {"username": "maria.garcia@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(maria.pk)
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.EmailBackend"


def test_a_wrong_password_in_another_case_logs_nobody_in(client, make_user):
    make_user("Maria")
    response = client.post(
        reverse("accounts:login"), {"username": "maria", "password": "not the password"}
    )
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_people_logged_in_before_the_adoption_stay_logged_in(client, make_user):
    """Their sessions name django.contrib.auth's ModelBackend, which ours replaced."""
    maria = make_user("maria")
    client.force_login(maria, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("accounts:settings"))
    assert response.status_code == 200
    assert response.context["user"] == maria
