"""authfold's API in a host that does not use drf-spectacular: the endpoints work, and including
them mounts no schema or docs page (those live in a module of their own, for hosts that want them)."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.people import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_host_does_not_install_drf_spectacular():
    assert "drf_spectacular" not in settings.INSTALLED_APPS


def test_authfold_sign_up_api_creates_an_account(client):
    response = client.post(
        "/api/users/",
        {"username": "Maria", "email": "maria@example.com", "password": PASSWORD + " 42"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert get_user_model().objects.filter(username="Maria").exists()


def test_including_authfold_api_urls_mounts_no_schema_or_docs_page(client):
    assert client.get("/api/schema/").status_code == 404
    assert client.get("/api/docs/").status_code == 404
