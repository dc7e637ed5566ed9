"""django-allauth's sign-up under the rule, through ``CaselessAccountAdapter``: the twins allauth's
own ``iexact`` check misses (``STRASSE`` beside ``Straße``, fullwidth ``ＭＡＲＩＡ``) and an email
another account has in another case (``STRASSE@`` beside ``Straße@``) are form errors with our codes, and nothing is created.

The host (``tests.allauth_host.settings``) runs in its own process on a throwaway SQLite file, so
that allauth's apps and tables stay out of the demo host's settings.
"""

import pytest

from tests.django_process import run_in_own_host

# Runs inside the allauth host; prints, as JSON, what each sign-up got.
SIGN_UPS = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
call_command("migrate", verbosity=0)
User = get_user_model()
User.objects.create_user("maria", "maria@example.com", "x")
User.objects.create_user("Straße", "Straße@example.com", "x")
User.objects.create_user("bob@example.com", "bob@example.org", "x")


def sign_up(username, email):
    response = Client().post("/accounts/signup/", {
        "username": username, "email": email,
        "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase",
    })
    form = response.context["form"] if response.context and "form" in response.context else None
    errors = {} if form is None else {
        field: [error.code for error in errors] for field, errors in form.errors.as_data().items()
    }
    return {"status": response.status_code, "errors": errors}


results = {
    "STRASSE": sign_up("STRASSE", "someone@example.com"),
    "fullwidth MARIA": sign_up("\\uff2d\\uff21\\uff32\\uff29\\uff21", "other@example.com"),
    "ASCII MARIA": sign_up("MARIA", "third@example.com"),
    "ASCII email in another case": sign_up("newcomer", "MARIA@EXAMPLE.COM"),
    "Unicode email in another case": sign_up("another", "STRASSE@example.com"),
    "username is another account's email": sign_up("Maria@Example.COM", "fourth@example.com"),
    "email is another account's username": sign_up("robert", "BOB@example.com"),
    "soft hyphen in the email": sign_up("carol", "carol@exam\u00adple.com"),
    "look-alike": sign_up("m\\u0251ria", "fifth@example.com"),
    "deviation domain": sign_up("hans", "hans@fa\\u00df.de"),
    "fresh": sign_up("anna", "anna@example.com"),
}
reset = Client().post("/accounts/password/reset/", {"email": "Maria@example.com"})
reset_form = reset.context["form"] if reset.context and "form" in reset.context else None
results["password reset of an existing address"] = {
    "status": reset.status_code,
    "errors": {} if reset_form is None else {
        field: [error.code for error in errors]
        for field, errors in reset_form.errors.as_data().items()
    },
}
results["accounts"] = sorted(User.objects.values_list("username", flat=True))
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def sign_ups(tmp_path_factory):
    return run_in_own_host(
        "tests.allauth_host.settings", SIGN_UPS, tmp_path_factory.mktemp("allauth")
    )


def test_a_unicode_twin_allauth_misses_is_a_form_error(sign_ups):
    assert sign_ups["STRASSE"] == {"status": 200, "errors": {"username": ["username_taken"]}}


def test_a_fullwidth_twin_allauth_misses_is_a_form_error(sign_ups):
    assert sign_ups["fullwidth MARIA"] == {
        "status": 200,
        "errors": {"username": ["username_taken"]},
    }


def test_an_ascii_twin_is_still_allauth_s_own_form_error(sign_ups):
    assert sign_ups["ASCII MARIA"] == {"status": 200, "errors": {"username": ["username_taken"]}}


def test_an_email_another_account_has_in_another_case_is_a_form_error(sign_ups):
    assert sign_ups["Unicode email in another case"]["errors"] == {"email": ["email_taken"]}


def test_an_ascii_email_in_another_case_is_still_refused(sign_ups):
    assert sign_ups["ASCII email in another case"]["errors"] == {"email": ["email_taken"]}


def test_an_email_domain_mail_systems_read_two_ways_is_a_form_error(sign_ups):
    assert sign_ups["deviation domain"] == {
        "status": 200,
        "errors": {"email": ["email_domain_ambiguous"]},
    }


def test_a_lookalike_of_a_taken_name_is_a_form_error(sign_ups):
    assert sign_ups["look-alike"] == {"status": 200, "errors": {"username": ["username_lookalike"]}}


def test_a_fresh_sign_up_goes_through_and_only_it_creates_an_account(sign_ups):
    assert sign_ups["fresh"]["status"] == 302
    assert sign_ups["accounts"] == ["Straße", "anna", "bob@example.com", "maria"]


def test_a_username_that_is_another_accounts_email_is_a_form_error(sign_ups):
    assert sign_ups["username is another account's email"]["errors"] == {
        "username": ["username_is_email_of_other"]
    }


def test_an_email_that_is_another_accounts_username_is_a_form_error(sign_ups):
    assert sign_ups["email is another account's username"]["errors"] == {
        "email": ["email_is_username_of_other"]
    }


def test_a_password_reset_for_an_existing_address_is_not_refused_as_taken(sign_ups):
    # The rule is for addresses being signed up with or added: allauth asks its adapter's
    # clean_email of a reset's address too, so the rule sits in validate_unique_email.
    assert sign_ups["password reset of an existing address"] == {"status": 302, "errors": {}}


def test_an_email_with_an_invisible_character_is_a_form_error(sign_ups):
    assert sign_ups["soft hyphen in the email"]["errors"] == {
        "email": ["email_invisible_character"]
    }
