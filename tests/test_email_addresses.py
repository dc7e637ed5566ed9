"""One address, one key: an email's domain is keyed in the ASCII form mail is sent to (IDNA 2008
with UTS #46 mapping), invisible characters are refused in usernames and emails, and a domain that
mixes scripts with look-alike letters is refused; on the forms, the API and the admin."""

import importlib
import time
from types import SimpleNamespace

import pytest
from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from authfold.accounts.caseless import digest, email_digest, email_key
from authfold.accounts.models import CaselessKey
from authfold.accounts.validators import clean_new_email, clean_new_username
from tests.api.errors import error_codes as api_error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()

# Spellings of bob@example.com's mailbox that look like it, or are delivered to it.
SAME_MAILBOX = {
    "soft hyphen": "bob@exam\u00adple.com",
    "zero-width space": "bob@exa\u200bmple.com",
    "zero-width joiner": "bob@exa\u200dmple.com",
    "ideographic full stop": "bob@example\u3002com",
    "ideographic full stop in a subdomain": "bob@mail\u3002example.com",
    "fullwidth letters": "bob@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
    "upper case": "BOB@EXAMPLE.COM",
}

# (A zero-width joiner in a domain is refused for its ambiguity: test_email_domain_deviations.)
INVISIBLE_IN_EMAIL = {
    "soft hyphen": "bob@exam\u00adple.com",
    "zero-width space": "bob@exa\u200bmple.com",
    "word joiner": "bob@exa\u2060mple.com",
}

INVISIBLE_IN_USERNAME = {
    "Hangul filler": "maria\u3164",
    "halfwidth Hangul filler": "maria\uffa0",
    "Hangul choseong filler": "\u115fmaria",
    "zero-width space": "ma\u200bria",
    "soft hyphen": "ma\u00adria",
    "variation selector": "maria\ufe0f",
}


def codes(error):
    return {item.code for item in error.value.error_list}


@pytest.fixture
def api_client():
    """An anonymous API client, with no throttle history (the counters live in the cache)."""
    cache.clear()
    yield APIClient()
    cache.clear()


@pytest.mark.parametrize("spelling", SAME_MAILBOX.values(), ids=SAME_MAILBOX)
def test_every_spelling_of_one_mailbox_has_one_key(spelling):
    plain = "bob@mail.example.com" if "mail" in spelling else "bob@example.com"
    assert email_key(spelling) == email_key(plain)


def test_an_idn_domain_and_its_ascii_form_have_one_key():
    assert email_key("hans@BÜCHER.de") == email_key("hans@xn--bcher-kva.de")


def test_an_ascii_address_keeps_the_key_it_always_had():
    # The first release's key: NFKC(casefold(NFKC(email))); stored digests stay valid.
    assert email_digest("Maria.Lopez+x@Example.COM") == digest("maria.lopez+x@example.com")


def test_a_domain_longer_than_dns_allows_is_keyed_as_folded_text_quickly():
    # IDNA's cost grows with the length (Python's IDNA 2003 codec: a second per 100,000
    # characters); no mailbox has such a domain, and the backend keys whatever a login sends.
    domain = ("Ü" * 50 + ".") * 20_000 + "com"
    started = time.perf_counter()
    key = email_key(f"bob@{domain}")
    assert time.perf_counter() - started < 0.5
    assert key == f"bob@{domain.casefold()}"


def test_a_look_alike_domain_is_not_the_same_mailbox():
    assert email_key("bob@ex\u0430mple.com") != email_key("bob@example.com")


@pytest.mark.parametrize("spelling", INVISIBLE_IN_EMAIL.values(), ids=INVISIBLE_IN_EMAIL)
def test_an_email_with_an_invisible_character_is_refused(spelling):
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email(spelling)
    assert codes(error) == {"email_invisible_character"}


@pytest.mark.parametrize("spelling", INVISIBLE_IN_USERNAME.values(), ids=INVISIBLE_IN_USERNAME)
def test_a_username_with_an_invisible_character_is_refused(spelling):
    with pytest.raises(forms.ValidationError) as error:
        clean_new_username(spelling)
    assert "username_invisible_character" in codes(error)


def test_an_ideographic_full_stop_is_stored_as_a_dot_and_taken_by_the_ascii_address():
    assert clean_new_email("bob@mail\u3002example.com") == "bob@mail.example.com"
    UserFactory(email="bob@mail.example.com")
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email("BOB@mail\u3002example.com")
    assert codes(error) == {"email_taken"}


def test_a_fullwidth_domain_is_taken_by_the_ascii_address():
    UserFactory(email="bob@example.com")
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email(SAME_MAILBOX["fullwidth letters"])
    assert codes(error) == {"email_taken"}


def test_an_idn_address_is_stored_in_unicode_and_taken_by_its_ascii_form():
    assert clean_new_email("hans@BÜCHER.de") == "hans@bücher.de"
    UserFactory(email="hans@bücher.de")
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email("hans@xn--bcher-kva.de")
    assert codes(error) == {"email_taken"}


def test_a_domain_idna_2008_refuses_is_invalid():
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email("bob@\u2603.net")
    assert codes(error) == {"invalid"}


@pytest.mark.parametrize(
    "address",
    ["bob@ex\u0430mple.com", "bob@xn--exmple-4nf.com", "bob@mail.p\u0430ypal.com"],
    ids=["Cyrillic a", "its xn-- form", "in a subdomain"],
)
def test_a_mixed_script_look_alike_domain_is_refused(address):
    with pytest.raises(forms.ValidationError) as error:
        clean_new_email(address)
    assert codes(error) == {"email_domain_confusable"}


@pytest.mark.parametrize(
    "address",
    ["hans@bücher.de", "ivan@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"],
    ids=["Latin with umlaut", "all Cyrillic"],
)
def test_a_single_script_idn_domain_is_accepted(address):
    assert clean_new_email(address) == address


@pytest.mark.parametrize("spelling", SAME_MAILBOX.values(), ids=SAME_MAILBOX)
def test_a_database_lookup_finds_the_mailbox_by_any_spelling(spelling):
    bob = UserFactory(email="bob@mail.example.com" if "mail" in spelling else "bob@example.com")
    key = CaselessKey.objects.get(user=bob)
    assert key.email_digest == email_digest(spelling)


# Through the doors: each refuses, with its code, and creates or changes nothing.
def refused_by_django(address):
    """Whether Django's own EmailValidator refuses ``address`` (which runs before our rules)."""
    try:
        validate_email(address)
    except ValidationError:
        return True
    return False


DOOR_REFUSALS = {
    "soft hyphen beside the plain address": ("bob@exam\u00adple.com", "email_invisible_character"),
    "zero-width space": ("bob@exa\u200bmple.com", "email_invisible_character"),
    # Django 5.2's own EmailValidator refuses U+3002 as the last dot; 4.2's lets it through to
    # our rule, which finds the mailbox taken.
    "ideographic full stop beside the plain address": (
        "BOB@example\u3002com",
        "invalid" if refused_by_django("BOB@example\u3002com") else "email_taken",
    ),
    "ideographic full stop in a subdomain": ("bob@MAIL\u3002example.com", "email_taken"),
    "fullwidth beside the plain address": (SAME_MAILBOX["fullwidth letters"], "email_taken"),
    "look-alike domain": ("bob@ex\u0430mple.com", "email_domain_confusable"),
}


def existing_mailboxes():
    UserFactory(username="bob", email="bob@example.com")
    UserFactory(username="bob2", email="bob@mail.example.com")


@pytest.mark.parametrize(("address", "code"), DOOR_REFUSALS.values(), ids=DOOR_REFUSALS)
def test_web_signup_refuses_another_spelling_of_a_mailbox(client, address, code):
    existing_mailboxes()
    response = client.post(
        reverse("authfold:signup"), new_account_data(username="mallory", email=address)
    )
    assert response.status_code == 200
    assert error_codes(response, "email") == {code}
    assert not User.objects.filter(username="mallory").exists()


@pytest.mark.parametrize(("address", "code"), DOOR_REFUSALS.values(), ids=DOOR_REFUSALS)
def test_api_signup_refuses_another_spelling_of_a_mailbox(api_client, address, code):
    existing_mailboxes()
    response = api_client.post(
        "/api/users/",
        {"username": "mallory", "email": address, "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert api_error_codes(response) == {"email": [code]}
    assert not User.objects.filter(username="mallory").exists()


@pytest.mark.parametrize(("address", "code"), DOOR_REFUSALS.values(), ids=DOOR_REFUSALS)
def test_admin_add_user_refuses_another_spelling_of_a_mailbox(admin_client, address, code):
    existing_mailboxes()
    response = admin_client.post(
        reverse("admin:auth_user_add"), new_account_data(username="mallory", email=address)
    )
    assert response.status_code == 200
    assert error_codes(response, "email") == {code}
    assert not User.objects.filter(username="mallory").exists()


def test_web_profile_refuses_another_spelling_of_a_taken_mailbox(client):
    existing_mailboxes()
    mallory = UserFactory(username="mallory", email="mallory@example.org")
    client.force_login(mallory)
    response = client.post(
        reverse("authfold:profile"), {"username": "mallory", "email": "bob@mail\u3002example.com"}
    )
    assert error_codes(response, "email") == {"email_taken"}
    mallory.refresh_from_db()
    assert mallory.email == "mallory@example.org"


@pytest.mark.parametrize(
    "username", [INVISIBLE_IN_USERNAME["Hangul filler"], INVISIBLE_IN_USERNAME["zero-width space"]]
)
def test_web_signup_and_api_refuse_a_username_with_an_invisible_character(
    client, api_client, username
):
    web = client.post(reverse("authfold:signup"), new_account_data(username=username))
    assert "username_invisible_character" in error_codes(web, "username")
    api = api_client.post(
        "/api/users/",
        {"username": username, "email": "m@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert api.status_code == 400
    assert "username_invisible_character" in api_error_codes(api)["username"]
    assert not User.objects.exists()


def test_a_host_model_form_finds_a_soft_hyphen_spelling_taken():
    """A host's own form checks no characters, but the key still makes the spelling a twin."""

    class HostUserForm(forms.ModelForm):
        class Meta:
            model = User
            fields = ["username", "email"]

    UserFactory(email="bob@example.com")
    form = HostUserForm(data={"username": "mallory", "email": "bob@exam\u00adple.com"})
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["email"]] == ["email_taken"]


def test_migration_0007_rewrites_the_keys_the_idna_domain_form_changed():
    hans = UserFactory(email="hans@bücher.de")
    ascii_user = UserFactory(email="maria@example.com")
    old_key = digest("hans@bücher.de")  # the first release's key of this address
    CaselessKey.objects.filter(user=hans).update(email_digest=old_key)
    ascii_digest_before = CaselessKey.objects.get(user=ascii_user).email_digest
    migration = importlib.import_module(
        "authfold.accounts.migrations.0007_key_reservations_and_email_claims"
    )
    # RunPython hands the function a schema editor; only its connection is used.
    migration.rekey_emails(apps, SimpleNamespace(connection=connection))
    assert CaselessKey.objects.get(user=hans).email_digest == email_digest("hans@xn--bcher-kva.de")
    assert CaselessKey.objects.get(user=ascii_user).email_digest == ascii_digest_before
