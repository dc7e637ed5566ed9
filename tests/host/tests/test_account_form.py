"""The host's plain ModelForm on User (username, email) refuses a caseless twin with a form error
on ``username``, a shared or blank email on ``email``, and lets a person change the case of their
own name."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.forms import AccountSettingsForm

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_the_form_refuses_a_caseless_twin_on_username(make_user):
    make_user("maria")
    ann = make_user("ann")
    form = AccountSettingsForm(instance=ann, data={"username": "MARIA", "email": ann.email})
    assert not form.is_valid()
    assert form.has_error("username", code="username_taken")


def test_the_form_refuses_a_unicode_caseless_twin_on_username(make_user):
    make_user("Straße")
    ann = make_user("ann")
    form = AccountSettingsForm(instance=ann, data={"username": "STRASSE", "email": ann.email})
    assert not form.is_valid()
    assert form.has_error("username", code="username_taken")


def test_the_form_refuses_an_email_another_account_has_in_another_case(make_user):
    make_user("maria", email="maria@example.com")
    ann = make_user("ann")
    form = AccountSettingsForm(instance=ann, data={"username": "ann", "email": "MARIA@example.com"})
    assert not form.is_valid()
    assert form.has_error("email", code="email_taken")


def test_the_form_refuses_a_blank_email(make_user):
    ann = make_user("ann")
    form = AccountSettingsForm(instance=ann, data={"username": "ann", "email": ""})
    assert not form.is_valid()
    assert form.has_error("email", code="email_required")


def test_the_settings_page_shows_the_twin_error_and_keeps_the_name(client, make_user):
    make_user("maria")
    ann = make_user("ann")
    client.force_login(ann)
    response = client.post(reverse("accounts:settings"), {"username": "Maria", "email": ann.email})
    assert response.status_code == 200
    assert response.context["form"].has_error("username", code="username_taken")
    ann.refresh_from_db()
    assert ann.username == "ann"


def test_a_person_can_change_the_case_of_their_own_name(client, make_user):
    maria = make_user("maria")
    client.force_login(maria)
    response = client.post(
        reverse("accounts:settings"), {"username": "Maria", "email": maria.email}
    )
    assert response.status_code == 302
    maria.refresh_from_db()
    assert maria.username == "Maria"


def test_a_rename_that_loses_the_race_for_the_name_answers_409_and_changes_nothing(
    client, make_user, monkeypatch
):
    ann = make_user("ann")
    client.force_login(ann)
    validate = AccountSettingsForm.full_clean

    def validate_then_lose_the_race(form):
        validate(form)
        if not form._errors and not User.objects.filter(username="MARIA").exists():
            make_user("MARIA")  # another request takes the name after this one's check

    monkeypatch.setattr(AccountSettingsForm, "full_clean", validate_then_lose_the_race)
    response = client.post(reverse("accounts:settings"), {"username": "maria", "email": ann.email})

    assert response.status_code == 409
    assert "so “maria” counts as the same name" in response.content.decode()
    ann.refresh_from_db()
    assert ann.username == "ann"
