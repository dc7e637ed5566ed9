"""django-axes (the real one) beside our backend: failures count per account whatever the
spelling, and a locked-out account stays locked out, on the web login and the API token login.

The demo settings configure axes as docs/LOGIN.md tells a host to (its backend first, ours
next, its middleware, ``AXES_USERNAME_CALLABLE``, lockouts per name and address); only
``AXES_ENABLED`` is off there, and these tests turn it on.
"""

from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authfold.backends import axes_username
from tests.factories import DEFAULT_PASSWORD, UserFactory

WRONG_PASSWORD = "not the password"
LOGIN_URL = reverse("authfold:login")
TOKEN_URL = reverse("authfold_api:auth-token")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    cache.clear()  # the API login's throttle counts in the cache
    yield
    cache.clear()


@pytest.fixture
def zed():
    return UserFactory(username="Zed")


def web_login(client, username, password):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def token_login(username, password):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def is_logged_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize(
    "spellings", [("zed", "ZED", "zeD"), ("ｚｅｄ", "ＺＥＤ", "Zed")], ids=["case", "fullwidth"]
)
def test_web_login_failures_in_three_spellings_lock_the_account(client, zed, spellings):
    for spelling in spellings:
        web_login(client, spelling, WRONG_PASSWORD)

    response = web_login(client, "Zed", DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert not is_logged_in(client)


def test_web_login_failures_below_the_limit_leave_the_account_open(client, zed):
    for spelling in ("zed", "ZED"):
        web_login(client, spelling, WRONG_PASSWORD)

    response = web_login(client, "zEd", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert is_logged_in(client)


def test_api_token_login_failures_in_three_spellings_lock_the_account(zed):
    for spelling in ("zed", "ZED", "zeD"):
        token_login(spelling, WRONG_PASSWORD)

    response = token_login("Zed", DEFAULT_PASSWORD)

    assert response.status_code == 429  # django-axes' lockout response
    assert not Token.objects.filter(user=zed).exists()


def test_web_and_api_failures_count_together_toward_one_lockout(client, zed):
    web_login(client, "zed", WRONG_PASSWORD)
    token_login("ZED", WRONG_PASSWORD)
    web_login(client, "zeD", WRONG_PASSWORD)

    assert token_login("Zed", DEFAULT_PASSWORD).status_code == 429
    assert not Token.objects.filter(user=zed).exists()


def test_a_lockout_records_one_account_under_its_caseless_key(client, zed):
    for spelling in ("zed", "ZED", "zeD"):
        web_login(client, spelling, WRONG_PASSWORD)

    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        ("zed", 3)
    ]


def test_a_lockout_of_one_account_leaves_another_open(client, zed):
    UserFactory(username="amy")
    for spelling in ("zed", "ZED", "zeD"):
        web_login(client, spelling, WRONG_PASSWORD)

    assert token_login("AMY", DEFAULT_PASSWORD).status_code == 200


def test_resetting_the_caseless_key_lifts_the_lockout(client, zed):
    for spelling in ("zed", "ZED", "zeD"):
        web_login(client, spelling, WRONG_PASSWORD)

    call_command("axes_reset_username", "zed", stdout=StringIO())

    assert web_login(client, "ZED", DEFAULT_PASSWORD).status_code == 302


def test_without_axes_backend_a_locked_out_account_logs_in_anyway(client, zed, settings):
    # Why docs/LOGIN.md keeps axes' backend first: axes counts, but only its backend refuses.
    settings.AUTHENTICATION_BACKENDS = ["authfold.backends.CaseInsensitiveModelBackend"]
    responses = [web_login(client, spelling, WRONG_PASSWORD) for spelling in ("zed", "ZED", "zeD")]

    web_login(client, "Zed", DEFAULT_PASSWORD)

    assert responses[-1].status_code == 429  # axes counted and answered the lockout ...
    assert is_logged_in(client)  # ... but nothing refused the right password


def test_axes_username_reads_the_credentials_then_the_posted_form(rf):
    assert axes_username(None, {"username": "ＺＥＤ", "password": "x"}) == "zed"
    assert axes_username(rf.post("/", {"username": "Straße"}), None) == "strasse"
    assert axes_username(rf.post("/", {}), None) is None
