"""An API token dies with the password: every path that changes a user's password hash deletes
the user's tokens, so a token taken before the change answers 401; and the API's logout deletes
the caller's token."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authfold.accounts.keys import CaselessConflict
from tests.django_process import run_at_terminal
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import STRONG_PASSWORD
from tests.web.test_password_pages import ask_for_reset, open_reset_link

User = get_user_model()


class OneRoundPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A preferred hasher other than the tests' MD5, cheap enough for a test."""

    iterations = 1


pytestmark = pytest.mark.django_db


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def token_of(user):
    return Token.objects.get_or_create(user=user)[0].key


def reset_password_by_mail(client, email, password):
    """The whole web reset flow: ask, follow the mailed link, set ``password``."""
    ask_for_reset(client, email)
    set_url, _ = open_reset_link(client, mail.outbox[-1])
    response = client.post(set_url, {"new_password1": password, "new_password2": password})
    assert response.url == reverse("authfold:password_reset_complete")


def change_password_on_the_web(client, old, new):
    response = client.post(
        reverse("authfold:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )
    assert response.url == reverse("authfold:password_change_done")


def test_the_web_password_change_deletes_the_accounts_token(client):
    user = UserFactory()
    key = token_of(user)
    client.force_login(user)
    change_password_on_the_web(client, DEFAULT_PASSWORD, STRONG_PASSWORD)
    assert not Token.objects.filter(user=user).exists()
    assert token_client(key).get("/api/users/me/").status_code == 401


def test_the_web_password_change_keeps_the_session_that_made_it(client):
    """Sessions rotate as Django does: the browser that changed the password stays logged in."""
    user = UserFactory()
    token_of(user)
    client.force_login(user)
    change_password_on_the_web(client, DEFAULT_PASSWORD, STRONG_PASSWORD)
    assert client.get(reverse("authfold:profile")).status_code == 200


def test_a_password_reset_deletes_the_accounts_token(client):
    user = UserFactory(email="maria@example.com")
    key = token_of(user)
    reset_password_by_mail(client, "maria@example.com", STRONG_PASSWORD)
    assert not Token.objects.filter(user=user).exists()
    assert token_client(key).get("/api/users/me/").status_code == 401


def test_the_admins_password_form_deletes_the_accounts_token(admin_client):
    user = UserFactory()
    key = token_of(user)
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert token_client(key).get("/api/users/me/").status_code == 401


def test_set_password_then_save_in_code_deletes_the_accounts_token():
    user = UserFactory()
    key = token_of(user)
    user.set_password(STRONG_PASSWORD)
    user.save()
    assert token_client(key).get("/api/users/me/").status_code == 401


def test_a_hash_stored_without_set_password_deletes_the_token_too():
    """What is compared is the stored hash, whoever computed it."""
    user = UserFactory()
    key = token_of(user)
    other = UserFactory.build(password=STRONG_PASSWORD)
    user.password = other.password
    user.save(update_fields=["password"])
    assert token_client(key).get("/api/users/me/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_changepassword_deletes_the_accounts_token(tmp_path):
    user = UserFactory(username="Maria")
    key = token_of(user)
    code, shown = run_at_terminal(
        tmp_path,
        ["changepassword", "maria"],
        [("Password: ", STRONG_PASSWORD), ("Password (again): ", STRONG_PASSWORD)],
    )
    assert code == 0, shown
    assert token_client(key).get("/api/users/me/").status_code == 401


def rehash_on_next_check(settings):
    """Make a preferred hasher other than the one the tests' users were hashed with, so Django
    re-hashes the same password at the next check and the stored hash changes."""
    settings.PASSWORD_HASHERS = [
        f"{__name__}.OneRoundPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


def test_a_rehash_of_the_same_password_at_login_ends_the_tokens(settings):
    user = UserFactory()
    key = token_of(user)
    rehash_on_next_check(settings)
    assert user.check_password(DEFAULT_PASSWORD)
    assert not Token.objects.filter(key=key).exists()


def test_a_rehash_of_the_same_password_ends_the_accounts_sessions_too(client, settings):
    """Django's own behaviour, which the tokens now share: the session hash follows the hash."""
    user = UserFactory()
    client.force_login(user)
    rehash_on_next_check(settings)
    assert user.check_password(DEFAULT_PASSWORD)
    assert client.get(reverse("authfold:profile")).status_code == 302


def test_saves_that_keep_the_password_keep_the_token():
    user = UserFactory()
    key = token_of(user)
    client = token_client(key)
    assert client.patch("/api/users/me/", {"username": "renamed"}).status_code == 200
    user.refresh_from_db()
    user.first_name = "Maria"
    user.save()
    assert client.get("/api/users/me/").json()["username"] == "renamed"


def test_a_password_change_leaves_other_accounts_tokens_alone():
    user, other = UserFactory(), UserFactory()
    token_of(user)
    other_key = token_of(other)
    user.set_password(STRONG_PASSWORD)
    user.save()
    assert token_client(other_key).get("/api/users/me/").status_code == 200


def test_a_save_refused_for_a_twin_keeps_the_token():
    """The tokens go after the save, so a save that fails costs nothing."""
    UserFactory(username="maria")
    user = UserFactory(username="other")
    key = token_of(user)
    user.username = "MARIA"
    user.set_password(STRONG_PASSWORD)
    with pytest.raises(CaselessConflict):
        user.save()
    assert Token.objects.filter(key=key).exists()


def test_an_attackers_token_dies_when_the_victim_recovers_the_account(client):
    """The attacker signs up with the victim's address and keeps the token; the
    victim resets the password by mail and changes it again on the web."""
    signed_up = APIClient().post(
        "/api/users/",
        {"username": "victim", "email": "victim@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert signed_up.status_code == 201
    attacker = token_client(signed_up.json()["token"])
    assert attacker.get("/api/users/me/").status_code == 200

    reset_password_by_mail(client, "victim@example.com", STRONG_PASSWORD)
    login = client.post(
        reverse("authfold:login"), {"username": "victim", "password": STRONG_PASSWORD}
    )
    assert login.status_code == 302
    change_password_on_the_web(client, STRONG_PASSWORD, "second " + STRONG_PASSWORD)

    assert attacker.get("/api/users/me/").status_code == 401
    moved = attacker.patch("/api/users/me/", {"email": "attacker@example.com"}, format="json")
    assert moved.status_code == 401
    assert User.objects.get(username="victim").email == "victim@example.com"


def test_logout_deletes_the_callers_token():
    user = UserFactory()
    client = token_client(token_of(user))
    response = client.post("/api/auth/logout/")
    assert response.status_code == 204
    assert not Token.objects.filter(user=user).exists()
    assert client.get("/api/users/me/").status_code == 401


def test_logout_without_a_token_is_a_401():
    response = APIClient().post("/api/auth/logout/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_logout_with_a_session_only_is_a_401_and_deletes_nothing(client):
    user = UserFactory()
    key = token_of(user)
    client.force_login(user)
    assert client.post("/api/auth/logout/").status_code == 401
    assert Token.objects.filter(key=key).exists()


def test_after_logout_the_next_login_makes_a_new_token():
    user = UserFactory(username="maria")
    old_key = token_of(user)
    token_client(old_key).post("/api/auth/logout/")
    login = APIClient().post(
        "/api/auth/token/", {"username": "MARIA", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert login.status_code == 200
    assert login.json()["token"] != old_key


def test_a_password_set_but_saved_without_it_still_ends_the_tokens_when_saved_later():
    user = UserFactory()
    key = token_of(user)
    user.set_password("a new one")
    user.save(update_fields=["last_login"])
    assert Token.objects.filter(key=key).exists()
    user.save()
    assert not Token.objects.filter(key=key).exists()


def test_a_save_of_a_loaded_user_reads_nothing_to_know_its_password_is_unchanged():
    key = token_of(UserFactory())
    user = User.objects.get(auth_token__key=key)
    user.first_name = "Maria"
    with CaptureQueriesContext(connection) as captured:
        user.save()
    assert len(captured.captured_queries) == 1
    assert Token.objects.filter(key=key).exists()


def test_a_user_refreshed_after_another_process_changed_its_password_keeps_the_new_token():
    user = UserFactory()
    elsewhere = User.objects.get(pk=user.pk)
    elsewhere.set_password("changed elsewhere")
    elsewhere.save()
    key = token_of(elsewhere)
    user.refresh_from_db()
    user.first_name = "Maria"
    user.save()
    assert Token.objects.filter(key=key).exists()
