"""The pages are plain and accessible: every input has a label, and a refused field's error list is
tied to its input with aria-describedby (with its help text), and listed in a summary that links
to the field."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.web.pages import STRONG_PASSWORD, ElementsById

pytestmark = pytest.mark.django_db

PAGES = ["signup", "password_reset", "profile", "password_change"]


def refused_signup(client):
    UserFactory(username="maria")
    response = client.post(
        reverse("authfold:signup"),
        {
            "username": "MARIA",
            "email": "",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )
    return ElementsById(response.content.decode())


@pytest.mark.parametrize("page", PAGES)
def test_every_input_of_the_page_has_a_label(client, page):
    if page in {"profile", "password_change"}:
        client.force_login(UserFactory())
    html = ElementsById(client.get(reverse(f"authfold:{page}")).content.decode())
    inputs = [
        element_id
        for element_id, element in html.elements.items()
        if element["tag"] == "input" and element["attrs"].get("type") != "hidden"
    ]
    assert inputs
    assert all(html.labels.get(element_id, "").strip() for element_id in inputs)


def test_refused_field_names_its_help_text_and_error_list_in_aria_describedby(client):
    html = refused_signup(client)
    username = html.elements["id_username"]["attrs"]
    assert username["aria-describedby"].split() == ["id_username_helptext", "id_username_error"]
    assert username["aria-invalid"] == "true"
    assert "Usernames ignore case" in html.elements["id_username_error"]["text"]
    assert "id_username_helptext" in html.elements


def test_field_without_help_text_names_only_its_error_list(client):
    html = refused_signup(client)
    email = html.elements["id_email"]["attrs"]
    assert email["aria-describedby"] == "id_email_error"
    assert "email address is required" in html.elements["id_email_error"]["text"]


def test_field_that_passed_names_only_its_help_text(client):
    html = refused_signup(client)
    assert html.elements["id_password1"]["attrs"]["aria-describedby"] == "id_password1_helptext"


def test_error_summary_is_announced_and_links_to_each_refused_field(client):
    UserFactory(username="maria")
    response = client.post(reverse("authfold:signup"), {"username": "MARIA", "email": ""})
    content = response.content.decode()
    assert 'role="alert"' in content
    assert 'href="#id_username"' in content and 'href="#id_email"' in content
