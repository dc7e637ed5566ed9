"""The email change in a real browser, as the demo ships it (mandatory verification, login by
email): change it on the profile with the password, follow the mailed link, confirm, and log in
with the new address."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_changing_the_email_waits_for_the_link_then_logs_in_by_the_new_address(page, settings):
    settings.AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
    settings.AUTHFOLD_LOGIN_BY_EMAIL = True
    UserFactory(username="maria", email="maria@example.com")
    log_in(page, "maria", DEFAULT_PASSWORD)
    page.goto("/accounts/profile/")

    page.get_by_label("Email address").fill("maria@new.example")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_current_password_error")).to_contain_text("current password")
    assert User.objects.get().email == "maria@example.com"

    page.get_by_label("Email address").fill("maria@new.example")
    page.get_by_label("Current password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a link to maria@new.example")
    expect(page.get_by_test_id("pending-email")).to_contain_text("maria@new.example")
    assert User.objects.get().email == "maria@example.com"

    [message] = [message for message in mail.outbox if message.to == ["maria@new.example"]]
    page.goto(re.search(r"https?://\S+/accounts/email/confirm/\S+/", message.body).group(0))
    expect(page.get_by_role("main")).to_contain_text("maria@new.example")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text(
        "is now the confirmed email address of the account “maria”"
    )
    assert User.objects.get().email == "maria@new.example"
    assert [message.to for message in mail.outbox][-1] == ["maria@example.com"]

    page.get_by_role("button", name="Log out").click()
    log_in(page, "MARIA@new.example", DEFAULT_PASSWORD)
    expect(page.get_by_test_id("current-username")).to_have_text("maria")
