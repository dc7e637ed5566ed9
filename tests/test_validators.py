"""The rule for new or changed usernames and emails: each refusal has its own stable code."""

import pytest
from django.core.exceptions import ValidationError

from authfold.accounts.validators import clean_new_email, clean_new_username
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def codes(error):
    return {item.code for item in error.value.error_list}


@pytest.mark.parametrize("taken_as", ["maria", "Maria", "MARIA", "ＭＡＲＩＡ"])
def test_username_taken_in_any_case_is_refused(taken_as):
    UserFactory(username="Maria")
    with pytest.raises(ValidationError) as error:
        clean_new_username(taken_as)
    assert codes(error) == {"username_taken"}


def test_unicode_twin_of_a_taken_username_is_refused():
    UserFactory(username="Straße")
    with pytest.raises(ValidationError) as error:
        clean_new_username("STRASSE")
    assert codes(error) == {"username_taken"}


def test_an_account_may_change_the_case_of_its_own_username():
    user = UserFactory(username="maria")
    assert clean_new_username("Maria", exclude_pk=user.pk) == "Maria"


def test_new_username_is_stored_nfkc_normalised():
    assert clean_new_username("ｊｏｈｎ") == "john"


def test_username_over_150_characters_is_refused():
    with pytest.raises(ValidationError) as error:
        clean_new_username("a" * 151)
    assert codes(error) == {"username_too_long"}


def test_mixed_script_confusable_username_is_refused():
    with pytest.raises(ValidationError) as error:
        clean_new_username("pаypal")
    assert codes(error) == {"username_confusable"}


def test_single_script_non_latin_username_is_accepted():
    assert clean_new_username("Джон") == "Джон"


def test_username_with_forbidden_characters_is_refused():
    with pytest.raises(ValidationError) as error:
        clean_new_username("maria garcia!")
    assert codes(error) == {"invalid"}


def test_a_letter_newer_than_the_pinned_unicode_version_is_refused():
    """U+1E030 (a Cyrillic modifier letter, Unicode 15.0) is a letter to Python 3.12's regular
    expressions, and not to the Unicode 14.0 the key is pinned to: refused on every Python."""
    with pytest.raises(ValidationError) as refused:
        clean_new_username("мария\U0001e030")
    assert [error.code for error in refused.value.error_list] == ["invalid"]


def test_ascii_only_setting_refuses_non_ascii_letters(settings):
    settings.AUTHFOLD_ASCII_USERNAMES = True
    with pytest.raises(ValidationError) as error:
        clean_new_username("José")
    assert codes(error) == {"invalid"}


def test_reserved_usernames_are_refused_in_any_case_when_on(settings):
    settings.AUTHFOLD_RESERVED_USERNAMES = True
    with pytest.raises(ValidationError) as error:
        clean_new_username("ＡＤＭＩＮ")
    assert codes(error) == {"username_reserved"}


def test_reserved_usernames_are_allowed_when_off(settings):
    settings.AUTHFOLD_RESERVED_USERNAMES = False
    assert clean_new_username("admin") == "admin"


def test_email_is_required():
    with pytest.raises(ValidationError) as error:
        clean_new_email("  ")
    assert codes(error) == {"email_required"}


def test_invalid_email_is_refused():
    with pytest.raises(ValidationError) as error:
        clean_new_email("not-an-email")
    assert codes(error) == {"invalid"}


def test_email_taken_in_any_case_is_refused():
    UserFactory(email="maria@example.com")
    with pytest.raises(ValidationError) as error:
        clean_new_email("MARIA@Example.COM")
    assert codes(error) == {"email_taken"}


def test_email_domain_is_lowercased_and_own_email_may_change_case():
    user = UserFactory(email="maria@example.com")
    assert clean_new_email("Maria@EXAMPLE.com", exclude_pk=user.pk) == "Maria@example.com"
