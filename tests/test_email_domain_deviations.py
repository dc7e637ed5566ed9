"""One mailbox, one key, and mail goes to that mailbox: an email's domain is keyed by its IDNA
2008 A-label (``hans@faß.de`` is ``hans@xn--fa-hia.de``, not ``hans@fass.de``), and an address
whose domain has a deviation character (``ß``, ``ς``, ZWJ, ZWNJ), which Django's mailer would
send to another domain, is refused on every write path with ``email_domain_ambiguous``; stored
ones are rekeyed by a migration and listed by the audit."""

import importlib
import json
from io import StringIO
from types import SimpleNamespace

import pytest
from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from authfold.accounts.caseless import digest, email_digest, email_key
from authfold.accounts.models import CaselessKey
from authfold.accounts.validators import clean_new_email
from tests.api.errors import error_codes as api_error_codes
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.web.pages import error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()

DEVIATIONS = {
    "sharp s": "hans@faß.de",
    "capital sharp s": "hans@FAẞ.DE",
    "final sigma": "nikos@ελλάς.gr",
    "zero-width joiner": "bob@exa\u200dmple.com",
    "zero-width non-joiner": "bob@exa\u200cmple.com",
}


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def signed_in():
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def test_a_deviation_domain_and_its_idna_2008_a_label_have_one_key():
    assert email_key("hans@faß.de") == email_key("HANS@xn--fa-hia.de") == "hans@xn--fa-hia.de"


def test_a_deviation_domain_is_not_the_domain_case_folding_makes_of_it():
    assert email_key("hans@faß.de") != email_key("hans@fass.de")
    assert email_key("nikos@ελλάς.gr") != email_key("nikos@ελλάσ.gr")


def test_the_local_part_is_still_folded_as_a_username_is():
    assert email_key("STRAßE@bücher.de") == email_key("strasse@xn--bcher-kva.de")


def test_an_ascii_address_keeps_its_key_byte_for_byte():
    assert email_key("Hans@FASS.de") == "hans@fass.de"


@pytest.mark.parametrize("address", DEVIATIONS.values(), ids=DEVIATIONS)
def test_a_deviation_domain_is_refused_as_ambiguous(address):
    with pytest.raises(ValidationError) as error:
        clean_new_email(address)
    assert [item.code for item in error.value.error_list] == ["email_domain_ambiguous"]


def test_the_refusal_suggests_the_idna_2008_a_label():
    with pytest.raises(ValidationError) as error:
        clean_new_email("hans@faß.de")
    assert "“xn--fa-hia.de”" in error.value.messages[0]


def test_the_a_label_itself_is_accepted_and_stored_as_written():
    assert clean_new_email("hans@xn--fa-hia.de") == "hans@xn--fa-hia.de"


def test_a_domain_without_deviation_characters_is_still_accepted():
    assert clean_new_email("hans@bücher.de") == "hans@bücher.de"


def test_web_signup_refuses_a_deviation_domain(client):
    response = client.post(
        reverse("authfold:signup"), new_account_data(username="hans", email="hans@faß.de")
    )
    assert error_codes(response, "email") == {"email_domain_ambiguous"}
    assert not User.objects.filter(username="hans").exists()


def test_web_profile_refuses_a_deviation_domain(client):
    hans = UserFactory(username="hans", email="hans@example.org")
    client.force_login(hans)
    response = client.post(reverse("authfold:profile"), {"username": "hans", "email": "h@faß.de"})
    assert error_codes(response, "email") == {"email_domain_ambiguous"}
    hans.refresh_from_db()
    assert hans.email == "hans@example.org"


def test_api_signup_refuses_a_deviation_domain(api_client):
    response = api_client.post(
        "/api/users/",
        {"username": "hans", "email": "hans@faß.de", "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert api_error_codes(response) == {"email": ["email_domain_ambiguous"]}
    assert not User.objects.filter(username="hans").exists()


def test_api_profile_refuses_a_deviation_domain(signed_in):
    hans = UserFactory(username="hans", email="hans@example.org")
    response = signed_in(hans).patch("/api/users/me/", {"email": "h@ελλάς.gr"}, format="json")
    assert response.status_code == 400
    assert api_error_codes(response) == {"email": ["email_domain_ambiguous"]}
    hans.refresh_from_db()
    assert hans.email == "hans@example.org"


def test_admin_add_user_refuses_a_deviation_domain(admin_client):
    response = admin_client.post(
        reverse("admin:auth_user_add"), new_account_data(username="hans", email="hans@faß.de")
    )
    assert error_codes(response, "email") == {"email_domain_ambiguous"}
    assert not User.objects.filter(username="hans").exists()


def test_a_host_model_form_refuses_a_deviation_domain():
    class HostUserForm(forms.ModelForm):
        class Meta:
            model = User
            fields = ["username", "email"]

    form = HostUserForm(data={"username": "hans", "email": "hans@faß.de"})
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["email"]] == ["email_domain_ambiguous"]


def test_a_host_model_form_leaves_a_stored_deviation_address_alone():
    """Grandfathered: an account that keeps its stored address is not asked to change it."""

    class HostNameForm(forms.ModelForm):
        class Meta:
            model = User
            fields = ["username", "email"]

    hans = UserFactory(username="hans", email="hans@faß.de")
    form = HostNameForm(data={"username": "hans2", "email": "hans@faß.de"}, instance=hans)
    assert form.is_valid(), form.errors


def test_createsuperuser_refuses_a_deviation_domain():
    with pytest.raises(CommandError, match="xn--fa-hia.de"):
        call_command("createsuperuser", interactive=False, username="root", email="r@faß.de")
    assert not User.objects.filter(username="root").exists()


def old_email_digest(address):
    """The key the first releases gave an address: the whole of it case folded, then IDNA."""
    local, _at, domain = address.casefold().rpartition("@")
    return digest(f"{local}@{domain.encode('idna').decode('ascii')}")


def with_old_key(address, claimed=True):
    """A user keyed as the first releases keyed ``address`` (written around the rule, as an
    account of then)."""
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(email=address)
    old = old_email_digest(address)
    CaselessKey.objects.filter(user=user).update(
        email_digest=old, email_claim=old if claimed else None
    )
    return user


def rekey(using=connection):
    migration = importlib.import_module(
        "authfold.accounts.migrations.0009_rekey_email_domains_by_idna_2008"
    )
    migration.rekey_email_domains(apps, SimpleNamespace(connection=using))


def test_the_migration_rekeys_a_deviation_address_by_its_a_label():
    hans = with_old_key("hans@faß.de")
    plain = UserFactory(email="maria@example.com")
    plain_key = CaselessKey.objects.get(user=plain).email_digest
    rekey()
    key = CaselessKey.objects.get(user=hans)
    assert key.email_digest == key.email_claim == email_digest("hans@xn--fa-hia.de")
    assert CaselessKey.objects.get(user=plain).email_digest == plain_key


def test_the_migration_grandfathers_a_deviation_address_its_a_label_holder_already_has():
    holder = UserFactory(email="hans@xn--fa-hia.de")
    hans = with_old_key("hans@faß.de")
    rekey()
    new_digest = email_digest("hans@faß.de")
    assert CaselessKey.objects.get(user=holder).email_claim == new_digest
    key = CaselessKey.objects.get(user=hans)
    assert (key.email_digest, key.email_claim) == (new_digest, None)


def test_the_migration_gives_the_claim_back_to_an_address_its_group_no_longer_shares():
    hans = with_old_key("hans@faß.de")
    fass = with_old_key("hans@fass.de", claimed=False)  # grandfathered beside hans@faß.de
    rekey()
    assert CaselessKey.objects.get(user=fass).email_claim == email_digest("hans@fass.de")
    assert CaselessKey.objects.get(user=hans).email_claim == email_digest("hans@xn--fa-hia.de")


def audit(*args):
    out = StringIO()
    call_command("conflict_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_audit_lists_deviation_domain_addresses_in_json():
    hans = with_old_key("hans@faß.de")
    UserFactory(email="anna@bücher.de")
    report = json.loads(audit("--format", "json"))
    assert report["deviation_domain_emails"] == [
        {
            "id": hans.pk,
            "username": hans.username,
            "email": "hans@faß.de",
            "idna2008_domain": "xn--fa-hia.de",
        }
    ]
    assert report["summary"]["deviation_domain_emails"] == 1


def test_the_audit_lists_deviation_domain_addresses_in_csv_and_text():
    nikos = with_old_key("nikos@ελλάς.gr")
    rows = audit("--format", "csv").splitlines()
    expected = f"deviation_domain_email,xn--hxarsa0b.gr,{nikos.pk},{nikos.username},nikos@ελλάς.gr"
    assert expected + ",,," in rows
    text = audit()
    assert "Emails whose domain mail systems read two ways" in text
    assert "nikos@ελλάς.gr" in text


def test_a_stored_deviation_address_gets_its_reset_mail_at_the_a_label(client):
    """Not at ``fass.de``, where Django's mailer (IDNA 2003) would have sent it."""
    hans = with_old_key("hans@faß.de")
    rekey()
    response = client.post(reverse("authfold:password_reset"), {"email": "hans@faß.de"})
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["hans@xn--fa-hia.de"]]
    assert hans.username in mail.outbox[0].body


def test_a_reset_asked_for_the_case_folded_domain_reaches_no_one(client):
    with_old_key("hans@faß.de")
    rekey()
    client.post(reverse("authfold:password_reset"), {"email": "hans@fass.de"})
    assert mail.outbox == []
