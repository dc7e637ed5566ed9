"""The web login page, logout and the admin login accept any case (Django's test client)."""

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.test import Client

from authfold.accounts.login import INVALID_LOGIN, INVALID_LOGIN_BY_EMAIL
from authfold.accounts.models import CaselessKey
from authfold.data_migrations.keys import backfill_caseless_keys
from tests.factories import DEFAULT_PASSWORD, UserFactory

User = get_user_model()

LOGIN_URL = "/accounts/login/"
LOGOUT_URL = "/accounts/logout/"
ADMIN_LOGIN_URL = "/admin/login/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=False)


def log_in(browser, username, password=DEFAULT_PASSWORD, url=LOGIN_URL):
    return browser.post(url, {"username": username, "password": password})


def logged_in_user_id(browser):
    return browser.session.get(SESSION_KEY)


@pytest.mark.parametrize("typed", ["maria", "MARIA", "ＭＡＲＩＡ"])
def test_login_page_accepts_any_case_of_username(browser, typed):
    user = UserFactory(username="Maria")
    response = log_in(browser, typed)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(browser) == str(user.pk)


def test_login_page_accepts_email_in_any_case_on_the_demo_site(browser):
    user = UserFactory(username="maria", email="maria@example.com")
    log_in(browser, "MARIA@Example.com")
    assert logged_in_user_id(browser) == str(user.pk)


def test_login_page_shows_who_is_signed_in_with_the_stored_username(browser):
    UserFactory(username="Maria")
    response = browser.post(
        LOGIN_URL, {"username": "MARIA", "password": DEFAULT_PASSWORD}, follow=True
    )
    assert '<strong data-testid="current-username">Maria</strong>' in response.content.decode()


@pytest.mark.parametrize(
    ("username", "password", "active"),
    [
        ("MARIA", "wrong password", True),
        ("mario", DEFAULT_PASSWORD, True),
        ("MARIA", DEFAULT_PASSWORD, False),
    ],
    ids=["wrong-password", "unknown-user", "inactive-user"],
)
def test_login_page_refusal_shows_the_form_error_and_opens_no_session(
    browser, username, password, active
):
    UserFactory(username="maria", is_active=active)
    response = log_in(browser, username, password)
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors().as_data()
    assert error.code == "invalid_login"
    assert str(INVALID_LOGIN_BY_EMAIL) in response.content.decode().replace("&#x27;", "'")
    assert logged_in_user_id(browser) is None


def test_login_page_refuses_another_case_of_legacy_twins_with_the_form_error(
    browser, accounts_migrator
):
    accounts_migrator.to("0002_resolve_username_conflicts")
    twins = [User(username=name, email=f"{name}@example.com") for name in ("maria", "Maria")]
    for twin in twins:
        twin.set_password(DEFAULT_PASSWORD)
    User.objects.bulk_create(twins)
    backfill_caseless_keys(User, CaselessKey, "default")
    try:
        response = log_in(browser, "MARIA")
        assert response.status_code == 200
        [error] = response.context["form"].non_field_errors().as_data()
        assert error.code == "invalid_login"
        assert logged_in_user_id(browser) is None
    finally:
        User.objects.all().delete()  # no twins left for the enforcement migration to refuse


def test_login_page_accepts_another_case_before_migrate(browser, accounts_migrator):
    accounts_migrator.to("zero")
    User.objects.bulk_create([User(username="Maria", password=make_password("pw"))])
    log_in(browser, "MARIA", "pw")
    assert logged_in_user_id(browser) == str(User.objects.get(username="Maria").pk)


def test_login_page_without_email_login_asks_for_a_username_only(browser, settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = False
    UserFactory(username="maria")
    response = log_in(browser, "maria", "wrong password")
    assert response.context["form"].non_field_errors() == [str(INVALID_LOGIN)]
    page = response.content.decode()
    assert "or your email address" not in page
    assert "Username or email" not in page


def test_login_page_with_email_login_says_so(browser):
    page = browser.get(LOGIN_URL).content.decode()
    assert "Your username, in any case, or your email address." in page
    assert 'maxlength="254"' in page


def test_logout_ends_a_session_opened_with_another_case(browser):
    UserFactory(username="Maria")
    log_in(browser, "mArIa")
    response = browser.post(LOGOUT_URL)
    assert response.status_code == 302
    assert logged_in_user_id(browser) is None


@pytest.mark.parametrize("typed", ["admin", "ADMIN", "ＡＤＭＩＮ"])
def test_admin_login_accepts_any_case_of_a_staff_username(browser, typed):
    staff = UserFactory(username="Admin", is_staff=True, is_superuser=True)
    response = log_in(browser, typed, url=ADMIN_LOGIN_URL)
    assert response.status_code == 302
    assert logged_in_user_id(browser) == str(staff.pk)
    assert browser.get("/admin/").status_code == 200


def test_admin_login_refuses_a_wrong_password_with_the_form_error(browser):
    UserFactory(username="Admin", is_staff=True)
    response = log_in(browser, "ADMIN", "wrong password", url=ADMIN_LOGIN_URL)
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors().as_data()
    assert error.code == "invalid_login"
    assert logged_in_user_id(browser) is None


def test_admin_login_refuses_a_non_staff_user_in_any_case(browser):
    UserFactory(username="maria", is_staff=False)
    response = log_in(browser, "MARIA", url=ADMIN_LOGIN_URL)
    assert response.status_code == 200
    assert logged_in_user_id(browser) is None
