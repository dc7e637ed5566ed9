"""POST /api/auth/token/ and GET /api/users/me/: log in through the API with any case."""

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from authfold.accounts.api.auth import INVALID_LOGIN
from authfold.accounts.models import CaselessKey
from authfold.data_migrations.keys import backfill_caseless_keys
from tests.factories import DEFAULT_PASSWORD, UserFactory

User = get_user_model()

TOKEN_URL = "/api/auth/token/"
ME_URL = "/api/users/me/"
DEMO_LOGIN_RATE = 10  # mysite/settings.py: "10/min"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_throttle_cache(settings):
    """The throttle counts in the cache; every test starts (and leaves) with no attempts counted."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def legacy_twins(accounts_migrator):
    """``maria`` and ``Maria`` with keys of the same digest, as before the enforcement migration."""
    accounts_migrator.to("0002_resolve_username_conflicts")
    twins = [User(username=name, email=f"{name}@example.com") for name in ("maria", "Maria")]
    for twin in twins:
        twin.set_password(DEFAULT_PASSWORD)
    User.objects.bulk_create(twins)
    backfill_caseless_keys(User, CaselessKey, "default")
    yield {user.username: user for user in User.objects.all()}
    User.objects.all().delete()  # no twins left for the enforcement migration to refuse


def token_login(api, username, password=DEFAULT_PASSWORD, **extra):
    return api.post(TOKEN_URL, {"username": username, "password": password}, format="json", **extra)


@pytest.mark.parametrize("typed", ["maria", "MARIA", "ＭＡＲＩＡ"])
def test_token_login_accepts_any_case_of_username(api, typed):
    user = UserFactory(username="Maria")
    response = token_login(api, typed)
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key, "username": "Maria"}


def test_token_login_answers_the_same_token_for_every_case_variant(api):
    UserFactory(username="Maria")
    tokens = {token_login(api, typed).json()["token"] for typed in ["maria", "Maria", "MARIA"]}
    assert len(tokens) == 1


def test_token_login_accepts_email_in_any_case_on_the_demo_site(api):
    user = UserFactory(username="maria", email="maria@example.com")
    response = token_login(api, "Maria@EXAMPLE.com")
    assert response.json() == {"token": Token.objects.get(user=user).key, "username": "maria"}


@pytest.mark.parametrize(
    ("username", "password", "active"),
    [
        ("MARIA", "wrong password", True),  # wrong password
        ("mario", DEFAULT_PASSWORD, True),  # unknown user
        ("MARIA", DEFAULT_PASSWORD, False),  # inactive user
    ],
    ids=["wrong-password", "unknown-user", "inactive-user"],
)
def test_token_login_refusals_are_one_generic_400(api, username, password, active):
    UserFactory(username="maria", is_active=active)
    response = token_login(api, username, password)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [str(INVALID_LOGIN)]}
    assert not Token.objects.exists()


def test_token_login_gives_the_exact_case_owner_of_legacy_twins_a_token(api, legacy_twins):
    response = token_login(api, "Maria")
    assert response.status_code == 200
    assert response.json() == {
        "token": Token.objects.get(user=legacy_twins["Maria"]).key,
        "username": "Maria",
    }


def test_token_login_refuses_another_case_of_legacy_twins_with_400(api, legacy_twins):
    response = token_login(api, "MARIA")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [str(INVALID_LOGIN)]}


def test_token_login_reads_a_fullwidth_name_as_the_web_login_does(api, legacy_twins):
    # NFKC makes "Ｍａｒｉａ" the exact-case owner's "Maria", on every door.
    browser = Client()
    browser.post("/accounts/login/", {"username": "Ｍａｒｉａ", "password": DEFAULT_PASSWORD})
    assert browser.session[SESSION_KEY] == str(legacy_twins["Maria"].pk)
    response = token_login(api, "Ｍａｒｉａ")
    assert response.status_code == 200
    assert response.json()["username"] == "Maria"


def test_token_login_without_password_is_a_400_on_the_field(api):
    response = api.post(TOKEN_URL, {"username": "maria"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


def test_token_login_ignores_a_session_so_needs_no_csrf_token(api):
    user = UserFactory(username="maria")
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(user)
    assert token_login(api, "MARIA").status_code == 200


def test_token_login_is_throttled_with_429_after_the_login_rate(api):
    UserFactory(username="maria")
    statuses = [token_login(api, "maria", "wrong").status_code for _ in range(DEMO_LOGIN_RATE)]
    assert statuses == [400] * DEMO_LOGIN_RATE
    response = token_login(api, "maria")
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()


def test_token_login_throttle_counts_per_client_address(api):
    UserFactory(username="maria")
    for n in range(DEMO_LOGIN_RATE):  # other names: maria's own failures would count per account
        token_login(api, f"someone{n}", "wrong")
    assert token_login(api, "maria", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_login_throttle_has_a_rate_when_the_project_sets_none(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    UserFactory(username="maria")
    statuses = [token_login(api, "maria", "wrong").status_code for _ in range(11)]
    assert statuses == [400] * 10 + [429]


def test_login_throttle_is_off_when_the_project_sets_its_rate_to_none(api, settings):
    rates = {"login": None, "login_account": None}  # both: these failures are on one account
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    UserFactory(username="maria")
    statuses = {token_login(api, "maria", "wrong").status_code for _ in range(12)}
    assert statuses == {400}


def test_token_from_any_case_opens_users_me(api):
    user = UserFactory(username="Maria", email="maria@example.com")
    token = token_login(api, "MARIA").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get(ME_URL)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": "Maria",
        "email": "maria@example.com",
        "email_confirmed": True,
        "pending_email": None,
    }


def test_users_me_refuses_a_request_without_token(api):
    assert api.get(ME_URL).status_code == 401


def test_schema_declares_token_login_responses(api):
    response = api.get("/api/schema/", {"format": "json"})
    operation = response.json()["paths"][TOKEN_URL]["post"]
    assert set(operation["responses"]) == {"200", "400", "413", "429"}
