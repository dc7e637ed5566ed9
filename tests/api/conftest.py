"""Fixtures for the API tests: clients, signed in or not (tests/conftest.py clears the
throttles' counts)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def api_client():
    """An anonymous client that sends JSON."""
    return APIClient()


@pytest.fixture
def signed_in():
    """Makes a client that sends the given user's API token."""

    def client_for(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for
