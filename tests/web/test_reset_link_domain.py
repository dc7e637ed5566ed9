"""The password-reset link is built on the site's configured address (``AUTHFOLD_SITE_URL``),
never on the request's ``Host`` header: ``ALLOWED_HOSTS`` checks a host's name but not its port,
so ``example.com:6666`` passes and would send the owner's reset token to a port an attacker
listens on."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOSTILE_HOST = "example.com:6666"


def reset_link(client):
    UserFactory(email="maria@example.com")
    response = client.post(
        reverse("authfold:password_reset"), {"email": "maria@example.com"}, HTTP_HOST=HOSTILE_HOST
    )
    assert response.status_code == 302
    return re.search(r"https?://\S+", mail.outbox[-1].body).group(0)


@pytest.fixture
def example_com_allowed(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "example.com"]


def test_the_reset_link_uses_the_configured_site_url_not_the_host_header(
    client, settings, example_com_allowed
):
    settings.AUTHFOLD_SITE_URL = "https://accounts.example.org"
    link = reset_link(client)
    assert link.startswith("https://accounts.example.org/accounts/password/reset/")


def test_without_a_site_url_the_host_header_port_reaches_the_link_as_in_django(
    client, example_com_allowed
):
    """What the setting is for: Django's default trusts the port of an allowed host."""
    assert reset_link(client).startswith(f"http://{HOSTILE_HOST}/")


def test_a_site_url_that_is_not_an_http_url_is_a_configuration_error(
    client, settings, example_com_allowed
):
    settings.AUTHFOLD_SITE_URL = "accounts.example.org"
    with pytest.raises(ImproperlyConfigured, match="AUTHFOLD_SITE_URL"):
        reset_link(client)
