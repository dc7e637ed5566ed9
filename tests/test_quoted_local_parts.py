"""One mailbox, one account, however its local part is quoted: ``"x"@example.net`` is
``x@example.net`` (RFC 5321, 4.1.2), and a local part that needs its quotes (``"a b"``) is refused,
code ``email_quoted_local_part``. Stored quoted addresses are keyed again by migration 0016."""

import importlib
import json
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from authfold.accounts.caseless import digest, email_digest, email_key
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import CaselessKey, IdentifierClaim
from authfold.accounts.validators import clean_new_email
from tests.api.errors import error_codes as api_error_codes
from tests.factories import UserFactory
from tests.web.pages import STRONG_PASSWORD, error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def api_client():
    """An anonymous API client, with no throttle history (the counters live in the cache)."""
    cache.clear()
    yield APIClient()
    cache.clear()


@pytest.mark.parametrize(
    "spelling",
    ['"x"@example.net', '"X"@Example.NET', '"\\x"@example.net'],
    ids=["quoted", "quoted upper case", "escaped"],
)
def test_a_needlessly_quoted_local_part_has_the_plain_addresses_key(spelling):
    assert email_key(spelling) == email_key("x@example.net")


def test_a_quoted_dot_atom_has_the_plain_dot_atoms_key():
    assert email_key('"x.y"@example.net') == email_key("x.y@example.net")


def test_a_local_part_that_needs_its_quotes_has_one_key_however_it_is_escaped():
    assert email_key('"a\\ b"@example.net') == email_key('"a b"@example.net')
    assert email_key('"a b"@example.net') != email_key("ab@example.net")


def test_a_web_sign_up_with_a_quoted_spelling_of_a_taken_address_is_email_taken(client):
    UserFactory(email="x@example.net")
    response = client.post(
        reverse("authfold:signup"), new_account_data(username="bea", email='"x"@example.net')
    )
    assert error_codes(response, "email") == {"email_taken"}
    assert not User.objects.filter(username="bea").exists()


def test_an_api_sign_up_with_a_quoted_spelling_of_a_taken_address_is_email_taken(api_client):
    UserFactory(email="x@example.net")
    response = api_client.post(
        "/api/users/",
        {"username": "bea", "email": '"x"@example.net', "password": STRONG_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert api_error_codes(response) == {"email": ["email_taken"]}


def test_the_database_claim_refuses_a_quoted_spelling_saved_through_the_orm():
    UserFactory(email="x@example.net")
    with pytest.raises(CaselessConflict):
        User(username="bea", email='"x"@example.net').save()
    assert not User.objects.filter(username="bea").exists()


def test_a_needlessly_quoted_address_is_stored_without_its_quotes(client):
    response = client.post(
        reverse("authfold:signup"), new_account_data(username="bea", email='"x"@example.net')
    )
    assert response.status_code == 302
    assert User.objects.get(username="bea").email == "x@example.net"


@pytest.mark.parametrize(
    "address",
    ['"a b"@example.net', '"a@b"@x.net', '"a\\"b"@example.net', '"x..y"@example.net'],
    ids=["space", "at sign", "escaped quote", "double dot"],
)
def test_a_local_part_that_needs_quotes_is_refused(address):
    with pytest.raises(ValidationError) as refusal:
        clean_new_email(address)
    assert {error.code for error in refusal.value.error_list} == {"email_quoted_local_part"}


def test_a_web_sign_up_with_a_local_part_that_needs_quotes_is_refused(client):
    response = client.post(
        reverse("authfold:signup"), new_account_data(username="bea", email='"a b"@example.net')
    )
    assert error_codes(response, "email") == {"email_quoted_local_part"}


def test_an_api_sign_up_with_a_local_part_that_needs_quotes_is_refused(api_client):
    response = api_client.post(
        "/api/users/",
        {"username": "bea", "email": '"a b"@example.net', "password": STRONG_PASSWORD},
        format="json",
    )
    assert api_error_codes(response) == {"email": ["email_quoted_local_part"]}


def with_old_key(address):
    """A user whose quoted ``address`` was stored and keyed before quotes were read: the whole
    address lowered, its key row and email claim vouching for it."""
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(email=address)
    old = digest(address.lower())
    CaselessKey.objects.filter(user=user).update(
        email_digest=old, email_claim=old, email_source=address
    )
    IdentifierClaim.objects.filter(user=user, kind="email").update(digest=old, source=address)
    return user


def rekey(using=connection):
    migration = importlib.import_module(
        "authfold.accounts.migrations.0016_rekey_quoted_local_parts"
    )
    migration.rekey_quoted_local_parts(apps, SimpleNamespace(connection=using))


def audit(*args):
    out = StringIO()
    call_command("conflict_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_audit_lists_a_stored_quoted_address_beside_its_plain_spelling_as_shared():
    UserFactory(email="x@example.net")
    with_old_key('"x"@example.net')
    rekey()
    report = json.loads(audit("--format", "json"))
    assert [group["key"] for group in report["email_conflicts"]] == ["x@example.net"]


def test_the_migration_grandfathers_a_quoted_address_beside_its_plain_spellings_holder():
    holder = UserFactory(email="x@example.net")
    quoted = with_old_key('"x"@example.net')
    rekey()
    new_digest = email_digest("x@example.net")
    key = CaselessKey.objects.get(user=quoted)
    assert (key.email_digest, key.email_claim) == (new_digest, None)
    assert IdentifierClaim.objects.get(digest=new_digest).user_id == holder.pk
    assert not IdentifierClaim.objects.filter(user=quoted, kind="email").exists()


def test_after_the_migration_a_stored_quoted_address_takes_its_plain_spelling(api_client):
    quoted = with_old_key('"x"@example.net')
    rekey()
    new_digest = email_digest("x@example.net")
    assert CaselessKey.objects.get(user=quoted).email_claim == new_digest
    assert IdentifierClaim.objects.get(digest=new_digest).user_id == quoted.pk
    response = api_client.post(
        "/api/users/",
        {"username": "bea", "email": "x@example.net", "password": STRONG_PASSWORD},
        format="json",
    )
    assert api_error_codes(response) == {"email": ["email_taken"]}
