"""The host's shared fixtures: a quick password hasher and a way to make accounts."""

import pytest
from django.contrib.auth import get_user_model

from tests.people import PASSWORD


@pytest.fixture(autouse=True)
def quick_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user():
    """Creates an account through ``create_user``, as the host's sign-up does."""

    def make(username, email=None, password=PASSWORD, **fields):
        email = f"{username.lower()}@example.com" if email is None else email
        return get_user_model().objects.create_user(username, email, password, **fields)

    return make
