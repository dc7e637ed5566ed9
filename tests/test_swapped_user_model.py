"""Under a user model the rule does not govern, the backend is ModelBackend and our receivers are
silent; overriding ``AUTH_USER_MODEL`` in a test never leaves ``auth.User`` broken after it."""

import importlib

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.db import IntegrityError, transaction
from django.test import override_settings

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import CaselessKey
from authfold.backends import case_insensitive
from tests.factories import DEFAULT_PASSWORD, UserFactory


def test_backend_logs_in_by_email_like_model_backend_under_an_email_user_model(
    swapped_user_table,
):
    EmailUser = swapped_user_table("EmailUser")
    ada = EmailUser.objects.create_user("ada@example.com", DEFAULT_PASSWORD)

    ours = case_insensitive.CaseInsensitiveModelBackend().authenticate(
        None, username="ada@example.com", password=DEFAULT_PASSWORD
    )

    assert ours == ada
    assert authenticate(None, email="ada@example.com", password=DEFAULT_PASSWORD) == ada


def test_backend_is_exact_case_like_model_backend_under_an_unkeyed_user_model(
    swapped_user_table,
):
    NamedUser = swapped_user_table("NamedUser")
    maria = NamedUser.objects.create_user("Maria", DEFAULT_PASSWORD)
    backend = case_insensitive.CaseInsensitiveModelBackend()

    # The key table describes auth.User, not this model: Django's exact lookup decides.
    assert backend.authenticate(None, username="Maria", password=DEFAULT_PASSWORD) == maria
    assert backend.authenticate(None, username="MARIA", password=DEFAULT_PASSWORD) is None
    assert ModelBackend().authenticate(None, username="MARIA", password=DEFAULT_PASSWORD) is None


def test_async_login_is_exact_case_like_model_backend_under_an_unkeyed_user_model(
    swapped_user_table,
):
    NamedUser = swapped_user_table("NamedUser")
    maria = NamedUser.objects.create_user("Maria", DEFAULT_PASSWORD)
    login = async_to_sync(case_insensitive.CaseInsensitiveModelBackend().aauthenticate)

    assert login(None, username="Maria", password=DEFAULT_PASSWORD) == maria
    assert login(None, username="MARIA", password=DEFAULT_PASSWORD) is None


def test_saving_an_unkeyed_user_model_writes_no_key_and_its_refusals_stay_django_s(
    swapped_user_table,
):
    NamedUser = swapped_user_table("NamedUser")
    NamedUser.objects.create_user("Maria", DEFAULT_PASSWORD)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        NamedUser.objects.create_user("Maria", DEFAULT_PASSWORD)

    assert not isinstance(refused.value, CaselessConflict)
    assert not CaselessKey.objects.exists()


@pytest.mark.django_db
def test_backend_imported_under_a_swapped_user_model_still_folds_auth_user_after_it():
    swapped = override_settings(
        INSTALLED_APPS=[*settings.INSTALLED_APPS, "tests.swapped_users"],
        AUTH_USER_MODEL="swapped_users.EmailUser",
    )
    try:
        with swapped:
            # What a test suite does when the backend's first import happens under the override.
            backend_module = importlib.reload(case_insensitive)
        maria = UserFactory(username="Maria")

        user = backend_module.CaseInsensitiveModelBackend().authenticate(
            None, username="MARIA", password=DEFAULT_PASSWORD
        )

        assert user == maria
    finally:
        importlib.reload(case_insensitive)
