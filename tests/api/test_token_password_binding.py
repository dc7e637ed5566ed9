"""A token is bound to the password hash it was issued under: a hash changed around ``save()``
(``update()``, raw SQL) ends it too, on its next request (401, and the token is deleted); a valid
token costs one query to authenticate, and rotating ``SECRET_KEY`` with a fallback ends none."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authfold.accounts.api.authentication import PasswordBoundTokenAuthentication
from authfold.accounts.models import TokenBinding
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
ME = "/api/users/me/"


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_password_set_by_update_ends_the_token():
    user = UserFactory()
    key = Token.objects.create(user=user).key
    assert token_client(key).get(ME).status_code == 200
    User.objects.filter(pk=user.pk).update(password=make_password("a new one, set around save"))
    response = token_client(key).get(ME)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("This token ended when the account's password")
    assert not Token.objects.filter(key=key).exists()


def test_a_password_set_by_raw_sql_ends_the_token():
    user = UserFactory()
    key = Token.objects.create(user=user).key
    table, column = User._meta.db_table, User._meta.get_field("password").column
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(table)} SET {connection.ops.quote_name(column)} "
            f"= %s WHERE id = %s",
            [make_password("raw"), user.pk],
        )
    assert token_client(key).get(ME).status_code == 401


def test_the_logout_endpoint_refuses_a_token_whose_password_changed():
    user = UserFactory()
    key = Token.objects.create(user=user).key
    User.objects.filter(pk=user.pk).update(password=make_password("changed"))
    assert token_client(key).post("/api/auth/logout/").status_code == 401


def test_an_unchanged_password_keeps_the_token_working():
    user = UserFactory()
    key = Token.objects.create(user=user).key
    User.objects.filter(pk=user.pk).update(first_name="Maria")
    assert token_client(key).get(ME).status_code == 200
    assert token_client(key).get(ME).status_code == 200


def test_a_valid_token_is_authenticated_in_one_query():
    user = UserFactory()
    key = Token.objects.create(user=user).key
    request = RequestFactory().get(ME, HTTP_AUTHORIZATION=f"Token {key}")
    with CaptureQueriesContext(connection) as queries:
        authenticated, token = PasswordBoundTokenAuthentication().authenticate(request)
    assert (authenticated, token.key) == (user, key)
    assert len(queries) == 1


def test_a_token_issued_around_save_is_bound_when_first_seen():
    user = UserFactory()
    Token.objects.bulk_create([Token(key="k" * 40, user=user)])
    assert not TokenBinding.objects.filter(token_key="k" * 40).exists()
    assert token_client("k" * 40).get(ME).status_code == 200
    User.objects.filter(pk=user.pk).update(password=make_password("changed"))
    assert token_client("k" * 40).get(ME).status_code == 401


def test_a_deleted_token_takes_its_binding_with_it():
    token = Token.objects.create(user=UserFactory())
    token.delete()
    assert not TokenBinding.objects.filter(token_key=token.key).exists()


def test_rotating_the_secret_key_with_a_fallback_keeps_the_token(settings):
    key = Token.objects.create(user=UserFactory()).key
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a new secret key, long and random enough for this test " * 2
    assert token_client(key).get(ME).status_code == 200


def test_rotating_the_secret_key_without_a_fallback_ends_the_token(settings):
    key = Token.objects.create(user=UserFactory()).key
    settings.SECRET_KEY = "a new secret key, long and random enough for this test " * 2
    assert token_client(key).get(ME).status_code == 401


def test_the_migration_binds_existing_tokens_to_their_users_current_hash():
    user = UserFactory()
    key = Token.objects.create(user=user).key
    TokenBinding.objects.all().delete()
    migration = importlib.import_module("authfold.accounts.migrations.0010_tokenbinding")
    migration.bind_existing_tokens(apps, type("Editor", (), {"connection": connection}))
    assert TokenBinding.objects.filter(token_key=key).exists()
    User.objects.filter(pk=user.pk).update(password=make_password("changed"))
    assert token_client(key).get(ME).status_code == 401


def test_logging_in_after_a_password_set_by_update_gives_a_new_working_token():
    user = UserFactory(username="maria")
    old_key = Token.objects.create(user=user).key
    User.objects.filter(pk=user.pk).update(password=make_password("the new password"))
    answer = APIClient().post(
        "/api/auth/token/", {"username": "maria", "password": "the new password"}, format="json"
    )
    assert answer.status_code == 200
    new_key = answer.json()["token"]
    assert new_key != old_key
    assert not Token.objects.filter(key=old_key).exists()
    assert token_client(new_key).get(ME).status_code == 200


def test_logging_in_again_with_an_unchanged_password_gives_the_same_token():
    user = UserFactory(username="maria")
    key = Token.objects.create(user=user).key
    answer = APIClient().post(
        "/api/auth/token/", {"username": "maria", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert answer.json()["token"] == key
