"""The account pages in a real browser: sign up, a refused case-variant sign-up, logging in with
another case of the username, and editing the profile."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()
NEW_PASSWORD = "violet kettle orbit 42"


def sign_up(page, username, email):
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email address").fill(email)
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_signing_up_creates_the_account_and_logs_in(page, live_server):
    sign_up(page, "maria", "maria@example.com")
    expect(page).to_have_url(f"{live_server.url}/accounts/profile/")
    expect(page.get_by_test_id("current-username")).to_have_text("maria")
    assert User.objects.filter(username="maria", email="maria@example.com").exists()


def test_signing_up_with_another_case_of_a_taken_username_is_refused(page, tmp_path):
    UserFactory(username="maria", email="maria@example.com")
    sign_up(page, "MARIA", "other@example.com")
    error = page.locator("#id_username_error")
    expect(error).to_contain_text("This username is taken")
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Usernames ignore case")
    page.screenshot(path=tmp_path / "signup-refused.png", full_page=True)
    assert User.objects.count() == 1


def test_logging_in_with_another_case_of_the_username(page):
    UserFactory(username="maria")
    log_in(page, "MARIA", DEFAULT_PASSWORD)
    expect(page.get_by_test_id("current-username")).to_have_text("maria")


def test_editing_the_profile_changes_username_and_name(page):
    UserFactory(username="maria", email="maria@example.com")
    log_in(page, "maria", DEFAULT_PASSWORD)
    page.goto("/accounts/profile/")
    page.get_by_label("Username").fill("Maria.Garcia")
    page.get_by_label("First name").fill("María")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    expect(page.get_by_test_id("current-username")).to_have_text("Maria.Garcia")
    assert User.objects.get().first_name == "María"
