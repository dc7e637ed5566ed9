"""The throttles in one process (Django's test client): what each scope counts, the 429 page, the
admin login, rates the project leaves out or turns off. What needs real workers and headers from
the network is in ``test_throttles_under_gunicorn.py``."""

import pytest
from django.contrib.auth import SESSION_KEY, authenticate
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from rest_framework.test import APIClient

from authfold.accounts.throttling import ScopedRateThrottle
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.twins import User
from tests.web.pages import new_account_data

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
ADMIN_LOGIN_URL = "/admin/login/"
TOKEN_URL = "/api/auth/token/"
RATE = 10  # mysite/settings.py: every scope below is 10 per minute or per hour


def rates(settings, **changes):
    """The project's throttle rates with ``changes``; ``None`` turns a scope off, and a scope
    that is left out falls back to ours."""
    current = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **changes}
    current = {scope: rate for scope, rate in current.items() if rate != "unset"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": current}


def log_in(browser, username, password, url=LOGIN_URL, address="192.0.2.1"):
    data = {"username": username, "password": password}
    return browser.post(url, data, REMOTE_ADDR=address)


def test_failed_logins_on_an_account_refuse_even_its_right_password_on_the_web(settings):
    rates(settings, login=None)  # only the account's own count
    UserFactory(username="Maria")
    browser = Client()
    failures = [log_in(browser, typed, "wrong").status_code for typed in ["maria", "MARIA"] * 5]
    refused = log_in(browser, "ＭＡＲＩＡ", DEFAULT_PASSWORD)

    assert failures == [200] * RATE
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many attempts" in refused.content.decode()
    assert SESSION_KEY not in browser.session


def test_right_passwords_are_not_counted_against_the_account(settings):
    rates(settings, login=None)
    UserFactory(username="maria")
    browser = Client()
    for _ in range(RATE + 2):
        assert log_in(browser, "maria", DEFAULT_PASSWORD).status_code == 302
    assert log_in(browser, "maria", "wrong").status_code == 200


def test_failed_logins_on_the_web_refuse_the_api_login_of_that_account(settings):
    rates(settings, login=None)
    UserFactory(username="maria")
    for _ in range(RATE):
        log_in(Client(), "MARIA", "wrong")

    answer = APIClient().post(
        TOKEN_URL, {"username": "maria", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) > 0


def test_the_admin_login_of_a_throttled_account_is_refused_with_its_form_error(settings):
    rates(settings, login=None)
    UserFactory(username="maria", is_staff=True)
    for _ in range(RATE):
        log_in(Client(), "maria", "wrong", url=ADMIN_LOGIN_URL)

    browser = Client()
    refused = log_in(browser, "MARIA", DEFAULT_PASSWORD, url=ADMIN_LOGIN_URL)
    assert refused.status_code == 200  # the admin's own page, with its error: no 429 there
    assert "Please enter the correct" in refused.content.decode()
    assert SESSION_KEY not in browser.session


def test_code_that_calls_authenticate_is_refused_for_a_throttled_account(settings):
    rates(settings, login=None)
    UserFactory(username="maria")
    for _ in range(RATE):
        assert authenticate(username="maria", password="wrong") is None
    assert authenticate(username="Maria", password=DEFAULT_PASSWORD) is None


def test_unknown_names_are_throttled_like_accounts(settings):
    rates(settings, login=None)
    browser = Client()
    answers = [log_in(browser, "nobody", "wrong").status_code for _ in range(RATE + 1)]
    assert answers == [200] * RATE + [429]


def test_the_account_throttle_is_off_when_its_rate_is_none(settings):
    rates(settings, login=None, login_account=None)
    UserFactory(username="maria")
    browser = Client()
    assert {log_in(browser, "maria", "wrong").status_code for _ in range(RATE + 2)} == {200}
    assert log_in(browser, "maria", DEFAULT_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("left_out", "turned_off"),
    [("login", "login_account"), ("login_account", "login"), ("password_reset", None)],
)
def test_a_scope_the_project_leaves_out_keeps_our_rate(settings, left_out, turned_off):
    rates(settings, **{left_out: "unset"}, **({turned_off: None} if turned_off else {}))
    browser = Client()
    if left_out == "password_reset":
        form = {"email": "nobody@example.com"}
        url, refused_with = "/accounts/password/reset/", 302
    else:
        form, url, refused_with = {"username": "nobody", "password": "wrong"}, LOGIN_URL, 200
    answers = [browser.post(url, form).status_code for _ in range(11)]
    assert answers == [refused_with] * 10 + [429]


def test_web_login_counts_per_client_address(settings):
    rates(settings, login_account=None)
    browser = Client()
    for _ in range(RATE):
        log_in(browser, "nobody", "wrong", address="192.0.2.1")
    assert log_in(browser, "nobody", "wrong", address="192.0.2.1").status_code == 429
    assert log_in(browser, "nobody", "wrong", address="192.0.2.2").status_code == 200


def test_a_forwarded_for_header_is_ignored_unless_the_project_declares_its_proxies(settings):
    rates(settings, login_account=None)
    browser = Client()
    for n in range(RATE):
        forged = {"HTTP_X_FORWARDED_FOR": f"203.0.113.{n}"}
        assert (
            browser.post(LOGIN_URL, {"username": "x", "password": "y"}, **forged).status_code == 200
        )
    assert log_in(browser, "nobody", "wrong", address="127.0.0.1").status_code == 429


def test_behind_one_declared_proxy_the_last_forwarded_address_is_the_client(settings):
    rates(settings, login_account=None)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    browser = Client()

    def from_client(address, forged="10.0.0.1"):
        forwarded = {"HTTP_X_FORWARDED_FOR": f"{forged}, {address}"}
        return browser.post(LOGIN_URL, {"username": "x", "password": "y"}, **forwarded)

    tries = [from_client("198.51.100.7", forged=f"10.0.0.{n}").status_code for n in range(RATE + 1)]
    assert tries == [200] * RATE + [429]
    assert from_client("198.51.100.8").status_code == 200


SIGNUP_URL = "/accounts/signup/"


def sign_up(username, address="192.0.2.1"):
    """A sign-up post from a browser of its own (a new account is logged in, and a logged-in
    person is sent away from the sign-up page)."""
    data = new_account_data(username=username, email=f"{username}@example.com")
    return Client().post(SIGNUP_URL, data, REMOTE_ADDR=address)


def test_refused_sign_ups_do_not_count_toward_the_hourly_register_rate(settings):
    rates(settings, register="2/hour")
    UserFactory(username="Maria")
    refused = [sign_up("maria").status_code for _ in range(RATE - 1)]

    assert refused == [200] * (RATE - 1)  # the form again, with "taken"
    assert sign_up("ana").status_code == 302


def test_sign_ups_that_created_accounts_count_toward_the_register_rate(settings):
    rates(settings, register="2/hour")
    created = [sign_up(name).status_code for name in ("ana", "bob")]
    refused = sign_up("carl")

    assert created == [302, 302]
    assert refused.status_code == 429
    assert not User.objects.filter(username="carl").exists()


def test_sign_up_posts_beyond_the_attempt_rate_wait_a_minute_not_an_hour(settings):
    UserFactory(username="Maria")
    for _ in range(RATE):
        sign_up("maria")
    refused = sign_up("ana")

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "seconds before you try again" in refused.content.decode()


def test_a_wait_longer_than_a_minute_and_a_half_is_told_in_minutes(settings):
    rates(settings, register="1/hour")
    sign_up("ana")
    refused = sign_up("bob")

    assert int(refused["Retry-After"]) > 90
    assert "Please wait about 60 minutes before you try again." in refused.content.decode()


def test_throttles_count_in_the_cache_authfold_cache_names_and_leave_the_default_alone(settings):
    from django.core.cache import caches

    locmem = "django.core.cache.backends.locmem.LocMemCache"
    settings.CACHES = {
        "default": {"BACKEND": locmem, "LOCATION": "host-default"},
        "authfold": {"BACKEND": locmem, "LOCATION": "authfold-throttles"},
    }
    settings.AUTHFOLD_CACHE = "authfold"

    log_in(Client(), "nobody", "wrong", address="192.0.2.7")

    assert caches["authfold"].get("throttle_login_192.0.2.7")
    assert caches["default"].get("throttle_login_192.0.2.7") is None


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("1/3m", (1, 180)), ("1/3min", (1, 180)), ("5/2d", (5, 172800))],
)
def test_a_rate_may_count_its_period_in_several_units(rate, parsed):
    assert ScopedRateThrottle().parse_rate(rate) == parsed


def test_an_unreadable_rate_fails_loudly():
    with pytest.raises(ImproperlyConfigured):
        ScopedRateThrottle().parse_rate("1 per fortnight")
