"""Failed logins per account kept beside the account (``LoginFailures``): the login statement
reads them with the user, so a right password with the throttle on costs one statement."""

import time

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import Client

from authfold.accounts.models import LoginFailures
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RATE = 10  # login_account, as mysite/settings.py ships it: 10 an hour
HOUR = 3600


def test_a_right_password_with_the_throttle_on_sends_one_statement(django_assert_num_queries):
    """The database cache as the demo ships it: the failures come with the user's row."""
    user = UserFactory(username="Maria")
    authenticate(
        username="maria", password=DEFAULT_PASSWORD
    )  # the process's one look at the schema
    with django_assert_num_queries(1):
        assert authenticate(username="MARIA", password=DEFAULT_PASSWORD) == user


def test_a_right_password_after_failures_still_sends_one_statement(django_assert_num_queries):
    user = UserFactory(username="Maria")
    for _ in range(3):
        assert authenticate(username="maria", password="wrong") is None
    with django_assert_num_queries(1):
        assert authenticate(username="ＭＡＲＩＡ", password=DEFAULT_PASSWORD) == user


def test_failures_of_an_account_are_kept_beside_it_not_in_the_cache():
    user = UserFactory(username="maria")
    cache.clear()
    authenticate(username="MARIA", password="wrong")
    authenticate(username="maria", password="wrong")

    [row] = LoginFailures.objects.filter(user=user)
    assert len(row.failed_at.split()) == 2
    assert cache.get(f"throttle_login_account_{user.pk}") is None


def test_the_tenth_failure_refuses_the_right_password_in_any_spelling_of_that_name(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    UserFactory(username="maria", email="maria@example.com")
    for typed in ["maria", "MARIA", "ＭＡＲＩＡ", "Maria", "maria"] * 2:
        assert authenticate(username=typed, password="wrong") is None
    for typed in ["maria@example.com", "MARIA@EXAMPLE.COM"] * 5:
        assert authenticate(username=typed, password="wrong") is None

    assert authenticate(username="Maria", password=DEFAULT_PASSWORD) is None
    assert authenticate(username="Maria@Example.com", password=DEFAULT_PASSWORD) is None


def test_failures_by_email_do_not_refuse_a_guess_at_the_username_of_that_account(settings):
    """Were they one count, a 429 for a guessed username would tell that it shares the account
    of an email, where a name without an account answers as a wrong password."""
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    UserFactory(username="maria", email="maria@example.com")
    UserFactory(username="marina", email="marina@example.com")
    for _ in range(RATE):
        authenticate(username="maria@example.com", password="wrong")
    browser = Client()

    guesses = [
        browser.post("/accounts/login/", {"username": guess, "password": "wrong"}).status_code
        for guess in ["maria", "marina", "nobody"]
    ]
    assert guesses == [200, 200, 200]
    assert authenticate(username="maria", password=DEFAULT_PASSWORD) is not None


def test_failures_by_username_do_not_refuse_the_email_of_that_account(settings):
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    user = UserFactory(username="maria", email="maria@example.com")
    for _ in range(RATE):
        authenticate(username="MARIA", password="wrong")

    assert authenticate(username="maria@example.com", password=DEFAULT_PASSWORD) == user


def test_failures_older_than_the_rate_period_are_ignored():
    user = UserFactory(username="maria")
    long_ago = time.time() - HOUR - 1
    LoginFailures.objects.create(
        user=user, failed_at=" ".join(repr(long_ago - n) for n in range(RATE))
    )
    assert authenticate(username="maria", password=DEFAULT_PASSWORD) == user


def test_a_failure_drops_the_expired_times_from_the_row():
    user = UserFactory(username="maria")
    long_ago = time.time() - HOUR - 1
    LoginFailures.objects.create(user=user, failed_at=f"{long_ago - 1!r} {long_ago - 2!r}")

    authenticate(username="maria", password="wrong")
    [moment] = LoginFailures.objects.get(user=user).failed_at.split()
    assert float(moment) > long_ago + HOUR


def test_the_throttled_web_login_of_an_account_answers_429_with_retry_after(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": None,
        },
    }
    UserFactory(username="maria")
    browser = Client()
    for _ in range(RATE):
        browser.post("/accounts/login/", {"username": "maria", "password": "wrong"})

    refused = browser.post("/accounts/login/", {"username": "MARIA", "password": DEFAULT_PASSWORD})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= HOUR


def test_a_name_without_an_account_is_counted_in_the_cache():
    for _ in range(RATE):
        assert authenticate(username="nobody", password="wrong") is None
    assert not LoginFailures.objects.exists()
    assert authenticate(username="NOBODY", password="wrong") is None
    UserFactory(username="somebody")
    assert authenticate(username="somebody", password=DEFAULT_PASSWORD) is not None


def test_deleting_the_account_deletes_its_failures():
    user = UserFactory(username="maria")
    authenticate(username="maria", password="wrong")
    user.delete()
    assert not LoginFailures.objects.exists()
