"""The host's own ModelSerializer on User answers 400 ``{"username": [...]}`` for a caseless twin
(the database refuses it; authfold's exception handler names the field), never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.people import PASSWORD

pytestmark = pytest.mark.django_db

User = get_user_model()


def sign_up(client, username, email):
    return client.post(
        reverse("api-user-create"),
        {"username": username, "email": email, "password": PASSWORD},
        content_type="application/json",
    )


def test_the_hosts_sign_up_api_creates_an_account(client):
    response = sign_up(client, "maria", "maria@example.com")
    assert response.status_code == 201
    assert User.objects.get(pk=response.json()["id"]).username == "maria"


def test_the_hosts_sign_up_api_refuses_a_caseless_twin_with_400_on_username(client, make_user):
    make_user("maria")
    response = sign_up(client, "MARIA", "other@example.com")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["username"]
    assert all(isinstance(message, str) for message in body["username"])
    assert User.objects.filter(email="other@example.com").count() == 0


def test_the_hosts_sign_up_api_refuses_a_unicode_caseless_twin_with_400(client, make_user):
    make_user("Straße")
    response = sign_up(client, "STRASSE", "other@example.com")
    assert response.status_code == 400
    assert list(response.json()) == ["username"]
