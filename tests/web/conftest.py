"""Fixtures for the web-page tests."""

import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """A cheap hasher: these tests create and log in many accounts, and what they check (the rule,
    the pages) does not depend on how a password is hashed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
