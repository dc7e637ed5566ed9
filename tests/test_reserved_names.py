"""Reserved names (``AUTHFOLD_RESERVED_USERNAMES = True``): the built-in list, grouped by the
public registry each name comes from, is refused in any case on sign-up, the API and the admin."""

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from authfold.accounts import reserved_names
from authfold.accounts.validators import clean_new_username
from tests.api.errors import error_codes as api_error_codes
from tests.factories import DEFAULT_PASSWORD
from tests.web.pages import error_codes, new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()

GROUPS = {
    "RFC 2142 mailboxes": reserved_names.RFC2142_MAILBOXES,
    "automatic senders": reserved_names.AUTOMATIC_SENDERS,
    "IANA well-known URIs": reserved_names.WELL_KNOWN_URIS,
    "root files": reserved_names.ROOT_FILES,
    "host names": reserved_names.HOST_NAMES,
    "site paths": reserved_names.SITE_PATHS,
    "staff": reserved_names.STAFF,
    "system": reserved_names.SYSTEM,
}

# The names the issue found passing with the first release's list.
ONCE_FREE = [
    "account",
    "user",
    "profile",
    "noreply",
    "localhost",
    "smtp",
    "robots.txt",
    ".well-known",
]


@pytest.fixture(autouse=True)
def reserved_names_on(settings):
    settings.AUTHFOLD_RESERVED_USERNAMES = True


def codes(error):
    return {item.code for item in error.value.error_list}


@pytest.mark.parametrize("group", GROUPS.values(), ids=GROUPS)
def test_every_name_of_each_group_is_refused(group):
    for name in group:
        with pytest.raises(forms.ValidationError) as error:
            clean_new_username(name)
        assert codes(error) == {"username_reserved"}, name


@pytest.mark.parametrize("name", ONCE_FREE)
def test_a_name_the_first_list_missed_is_refused_in_any_case(name):
    for spelling in (name, name.upper(), name.title()):
        with pytest.raises(forms.ValidationError) as error:
            clean_new_username(spelling)
        assert codes(error) == {"username_reserved"}, spelling


def test_the_list_is_about_as_broad_as_django_registrations():
    assert len(reserved_names.DEFAULT_RESERVED_USERNAMES) >= 100


def test_every_reserved_name_would_otherwise_be_a_valid_username(settings):
    settings.AUTHFOLD_RESERVED_USERNAMES = False
    for name in reserved_names.DEFAULT_RESERVED_USERNAMES:
        assert clean_new_username(name) == name


def test_a_project_list_replaces_the_built_in_one(settings):
    settings.AUTHFOLD_RESERVED_USERNAMES = ["Maria"]
    with pytest.raises(forms.ValidationError):
        clean_new_username("MARIA")
    assert clean_new_username("localhost") == "localhost"


@pytest.mark.parametrize("name", ["Account", "ROBOTS.TXT", ".well-known", "NoReply"])
def test_web_signup_refuses_a_reserved_name(client, name):
    response = client.post(reverse("authfold:signup"), new_account_data(username=name))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_reserved"}
    assert not User.objects.exists()


@pytest.mark.parametrize("name", ["Profile", "LOCALHOST", "security.txt", "postmaster"])
def test_api_signup_refuses_a_reserved_name(name):
    cache.clear()
    response = APIClient().post(
        "/api/users/",
        {"username": name, "email": "someone@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )
    cache.clear()
    assert response.status_code == 400
    assert api_error_codes(response) == {"username": ["username_reserved"]}


@pytest.mark.parametrize("name", ["smtp", "User", "hostmaster", "mailer-daemon"])
def test_admin_add_user_refuses_a_reserved_name(admin_client, name):
    response = admin_client.post(reverse("admin:auth_user_add"), new_account_data(username=name))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_reserved"}
    assert not User.objects.filter(username=name).exists()
