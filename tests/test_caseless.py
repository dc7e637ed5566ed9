"""The one definition of "the same username", as a table of pairs, and its lookups per database."""

import unicodedata

import pytest
from django.contrib.auth import get_user_model

from authfold.accounts import unicode_pinned
from authfold.accounts.caseless import (
    assigned_in_pinned_unicode,
    email_key,
    in_pinned_unicode,
    normalize_username,
    same_username,
    username_key,
    users_with_email,
    users_with_username,
)
from authfold.data_migrations.postgres_keys import key_fingerprint
from tests.factories import UserFactory

User = get_user_model()

SAME = [
    ("maria", "Maria"),
    ("maria", "MARIA"),
    ("Straße", "STRASSE"),
    ("straße", "strasse"),
    ("ẞ", "ss"),
    ("ＭＡＲＩＡ", "maria"),  # fullwidth letters
    ("ǅemal", "ǆemal"),  # titlecase and lowercase digraph
    ("ǄEMAL", "džemal"),
    ("Джон", "джон"),  # Cyrillic
    ("ΣΟΦΙΑ", "σοφια"),
    ("σοφιας", "ΣΟΦΙΑΣ"),  # final sigma folds to sigma
    ("ﬁle", "FILE"),  # ligature
    ("café", "CAFE\u0301"),  # precomposed and combining accent
    ("Å", "\u212b"),  # Angstrom sign
]

DIFFERENT = [
    ("İstanbul", "istanbul"),  # dotted capital I: no Turkish tailoring
    ("ıstanbul", "istanbul"),  # dotless small i
    ("paypal", "pаypal"),  # Cyrillic а
    ("maria", "marìa"),  # accents are not case
    ("resume", "résumé"),
    ("john", "jóhn"),
    ("user1", "user１1"),
]


@pytest.mark.parametrize(("first", "second"), SAME)
def test_pairs_that_are_the_same_username(first, second):
    assert same_username(first, second)
    assert username_key(first) == username_key(second)


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_pairs_that_are_different_usernames(first, second):
    assert not same_username(first, second)


def test_normalize_username_applies_nfkc_but_keeps_case():
    assert normalize_username("ＭＡＲＩＡ") == "MARIA"
    assert normalize_username("Straße") == "Straße"


def test_the_ascii_shortcut_gives_every_ascii_text_the_full_definitions_key():
    def full(text):
        return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())

    every_ascii_character = "".join(chr(code) for code in range(128))
    for text in [every_ascii_character, *every_ascii_character]:
        assert username_key(text) == full(text)
    assert email_key(" Ann@Example.COM ") == full("Ann@Example.COM")


def test_email_key_ignores_case_and_surrounding_space_and_blank_is_none():
    assert email_key(" Maria@Example.COM ") == email_key("maria@example.com")
    assert email_key("") is None
    assert email_key(None) is None


@pytest.mark.django_db
@pytest.mark.parametrize(("stored", "typed"), SAME)
def test_lookup_finds_the_same_username_on_this_database(stored, typed):
    user = UserFactory(username=stored)
    assert list(users_with_username(User.objects.all(), typed)) == [user]


@pytest.mark.django_db
@pytest.mark.parametrize(("stored", "typed"), DIFFERENT)
def test_lookup_tells_different_usernames_apart_on_this_database(stored, typed):
    UserFactory(username=stored)
    assert not users_with_username(User.objects.all(), typed).exists()


@pytest.mark.django_db
def test_email_lookup_matches_any_case_and_never_matches_blank():
    user = UserFactory(email="Maria@Example.com")
    UserFactory(email="")
    assert list(users_with_email(User.objects.all(), "maria@EXAMPLE.COM")) == [user]
    assert not users_with_email(User.objects.all(), "").exists()


# The pinned Unicode version (accounts/unicode_pinned.py): every Python keys names alike.


def test_every_code_point_is_keyed_as_the_pinned_unicode_version_keys_it():
    """The fingerprint was computed by the pinned version's own tables; a newer Python (the
    Django 6 leg runs on 3.12) must reproduce it, not its own tables' answer."""
    assert key_fingerprint() == unicode_pinned.KEY_FINGERPRINT


# U+1E030 MODIFIER LETTER CYRILLIC SMALL A, added in Unicode 15.0 with a compatibility
# decomposition to U+0430: Python 3.12's NFKC turns it into "а", Unicode 14.0 keeps it.
ADDED_IN_UNICODE_15 = "\U0001e030"


def test_a_character_the_pinned_version_had_not_assigned_is_kept_as_it_is():
    assert not assigned_in_pinned_unicode(ADDED_IN_UNICODE_15)
    assert username_key(f"Ма{ADDED_IN_UNICODE_15}Ｘ") == f"ма{ADDED_IN_UNICODE_15}x"
    assert normalize_username(f"Ｘ{ADDED_IN_UNICODE_15}") == f"X{ADDED_IN_UNICODE_15}"
    assert not same_username(ADDED_IN_UNICODE_15, "а")
    assert email_key(f"{ADDED_IN_UNICODE_15}@Example.com".upper()) == email_key(
        f"{ADDED_IN_UNICODE_15}@example.com"
    )


def test_the_characters_around_one_the_pinned_version_lacks_are_keyed_as_alone():
    """A combining mark after such a character stays apart from the letter before it, as in the
    pinned version (where the character is a starter that nothing composes with)."""
    name = f"e{ADDED_IN_UNICODE_15}\u0301ß"
    assert username_key(name) == f"e{ADDED_IN_UNICODE_15}\u0301ss"
    assert in_pinned_unicode(str.upper, f"a{ADDED_IN_UNICODE_15}b") == f"A{ADDED_IN_UNICODE_15}B"
