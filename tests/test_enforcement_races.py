"""Concurrent sign-ups of case variants of one name: the database lets exactly one through.

Each thread has its own database connection (Django's connections are per thread), and all start
together at a barrier, so the uniqueness checks in Python cannot serialise them: only the
database's unique index decides.
"""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from rest_framework.test import APIClient

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import CaselessKey
from authfold.accounts.validators import validate_username_available
from tests.factories import DEFAULT_PASSWORD

User = get_user_model()
pytestmark = pytest.mark.django_db(transaction=True)

VARIANTS = ["maria", "Maria", "MARIA", "mAria", "maRia", "marIa", "mariA", "ＭＡＲＩＡ"]


def run_at_once(function, arguments):
    """Call ``function(argument)`` in one thread per argument, all at once; the outcomes in order.

    An outcome is the return value or the exception raised, so every failure is visible.
    """
    barrier = threading.Barrier(len(arguments))
    outcomes = [None] * len(arguments)

    def worker(index, argument):
        try:
            # Connected before the barrier: the requests meet at the database, not at connect().
            connections["default"].ensure_connection()
            barrier.wait(timeout=30)
            outcomes[index] = function(argument)
        except Exception as error:  # noqa: BLE001 - every outcome is asserted on
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(index, argument))
        for index, argument in enumerate(arguments)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def create_in_autocommit(username):
    return User.objects.create_user(username, f"{username}@example.org")


def create_in_a_transaction(username):
    with transaction.atomic():
        return User.objects.create_user(username, f"{username}@example.org")


def sign_up_as_a_view_does(username):
    """Check, then insert, inside one transaction (ATOMIC_REQUESTS): reads before it writes."""
    with transaction.atomic():
        validate_username_available(username)
        return User.objects.create_user(username, f"{username}@example.org")


def assert_exactly_one_account(outcomes, refusals=(CaselessConflict,)):
    created = [outcome for outcome in outcomes if isinstance(outcome, User)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, refusals)]
    unexpected = [
        f"{type(outcome).__name__}: {outcome}"
        for outcome in outcomes
        if not isinstance(outcome, (User, *refusals))
    ]
    assert unexpected == []
    assert len(created) == 1, outcomes
    assert all(
        error.field == "username" for error in refused if isinstance(error, CaselessConflict)
    )
    assert list(User.objects.values_list("pk", flat=True)) == [created[0].pk]
    assert list(CaselessKey.objects.values_list("user_id", flat=True)) == [created[0].pk]


def test_concurrent_create_user_in_autocommit_makes_one_account():
    assert_exactly_one_account(run_at_once(create_in_autocommit, VARIANTS))


def test_concurrent_create_user_in_transactions_makes_one_account():
    assert_exactly_one_account(run_at_once(create_in_a_transaction, VARIANTS))


def test_concurrent_check_then_create_sign_ups_make_one_account_and_only_field_errors():
    outcomes = run_at_once(sign_up_as_a_view_does, VARIANTS)
    assert_exactly_one_account(outcomes, refusals=(CaselessConflict, ValidationError))


def test_concurrent_sign_ups_of_different_names_all_succeed():
    """The index refuses twins only: distinct names signing up together are never blocked."""
    names = [f"person{n}" for n in range(len(VARIANTS))]
    outcomes = run_at_once(sign_up_as_a_view_does, names)
    assert all(isinstance(outcome, User) for outcome in outcomes), outcomes
    assert CaselessKey.objects.count() == len(names)


def test_concurrent_sign_ups_of_one_exact_spelling_make_one_account():
    """A double-clicked submit: the user table's own index refuses, reported as a conflict too."""
    assert_exactly_one_account(run_at_once(create_in_a_transaction, ["maria"] * len(VARIANTS)))


def sign_up_through_the_api(number_and_username):
    """``POST /api/users/`` as a client would; the status and the body (none for a 5xx)."""
    number, username = number_and_username
    client = APIClient()
    client.raise_request_exception = False
    body = {
        "username": username,
        "email": f"racer{number}@example.org",
        "password": DEFAULT_PASSWORD,
    }
    response = client.post("/api/users/", body, format="json")
    return response.status_code, response.json() if response.status_code < 500 else None


def assert_one_201_and_400s_on_username(answers):
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [400] * (len(answers) - 1), answers
    assert all(set(body) == {"username"} for status, body in answers if status == 400), answers
    assert User.objects.count() == 1
    assert CaselessKey.objects.count() == 1


@pytest.fixture
def no_sign_ups_counted():
    """The sign-up throttle counts in the cache: start and leave with nothing counted."""
    cache.clear()
    yield
    cache.clear()


def test_concurrent_api_sign_ups_of_case_variants_give_one_201_and_400s_on_username(
    no_sign_ups_counted,
):
    answers = run_at_once(sign_up_through_the_api, list(enumerate(VARIANTS)))
    assert_one_201_and_400s_on_username(answers)


def test_concurrent_api_sign_ups_of_one_spelling_give_one_201_and_400s_on_username(
    no_sign_ups_counted,
):
    answers = run_at_once(sign_up_through_the_api, list(enumerate(["Straße"] * len(VARIANTS))))
    assert_one_201_and_400s_on_username(answers)


def case_variants(text, count):
    """``count`` spellings of ``text`` in different cases (its first letters up or down)."""
    letters = [index for index, char in enumerate(text) if char.isalpha()]
    variants = []
    for number in range(count):
        chars = list(text)
        for bit, index in enumerate(letters):
            if number >> bit & 1:
                chars[index] = chars[index].upper()
        variants.append("".join(chars))
    assert len(set(variants)) == count
    return variants


def sign_up_with_email(number_and_email):
    number, email = number_and_email
    with transaction.atomic():
        return User.objects.create_user(f"racer{number}", email)


def test_thirty_concurrent_sign_ups_with_one_email_in_thirty_cases_make_one_account():
    """With default settings: the database's email claim decides, not a setting."""
    emails = case_variants("shared.address@example.org", 30)
    outcomes = run_at_once(sign_up_with_email, list(enumerate(emails)))
    created = [outcome for outcome in outcomes if isinstance(outcome, User)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, CaselessConflict)]
    assert len(created) == 1, outcomes
    assert len(refused) == 29, outcomes
    assert {error.field for error in refused} == {"email"}
    assert User.objects.count() == 1
    assert CaselessKey.objects.count() == 1
