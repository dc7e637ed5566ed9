"""The host's own UserAdmin (with its Profile inline) stays registered after the adoption, and its
pages refuse a caseless twin with a form error."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.admin import ProfileInline, UserAdmin

pytestmark = pytest.mark.django_db

User = get_user_model()


def change_page_data(response):
    """What the admin's change page would post back unchanged: its form and its inline."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if hasattr(field.widget, "decompress") and not isinstance(value, list):
                for index, part in enumerate(field.widget.decompress(value)):
                    data[f"{key}_{index}"] = part
            elif value is True:
                data[key] = "on"
            else:
                data[key] = value
    return data


def test_the_hosts_user_admin_stays_registered():
    registered = admin.site._registry[User]
    assert isinstance(registered, UserAdmin)
    assert ProfileInline in registered.inlines


def test_the_user_change_page_shows_the_profile_inline(admin_client, make_user):
    maria = make_user("maria")
    response = admin_client.get(reverse("admin:auth_user_change", args=[maria.pk]))
    assert response.status_code == 200
    inlines = [inline.formset.model for inline in response.context["inline_admin_formsets"]]
    assert inlines == [ProfileInline.model]


def test_the_user_change_page_saves_the_profile_inline(admin_client, make_user):
    maria = make_user("maria")
    url = reverse("admin:auth_user_change", args=[maria.pk])
    data = change_page_data(admin_client.get(url))
    data["profile-0-display_name"] = "María García"
    response = admin_client.post(url, data)
    assert response.status_code == 302
    maria.profile.refresh_from_db()
    assert maria.profile.display_name == "María García"


def test_the_user_change_page_refuses_a_caseless_twin_with_a_form_error(admin_client, make_user):
    make_user("maria")
    ann = make_user("ann")
    url = reverse("admin:auth_user_change", args=[ann.pk])
    data = change_page_data(admin_client.get(url))
    data["username"] = "MARIA"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.has_error("username", code="username_taken")
    ann.refresh_from_db()
    assert ann.username == "ann"


def test_the_user_add_page_refuses_a_unicode_caseless_twin_with_a_form_error(
    admin_client, make_user
):
    make_user("Straße")
    response = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "STRASSE",
            "password1": "violet kettle orbit 42",
            "password2": "violet kettle orbit 42",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.has_error("username")
    assert not User.objects.filter(username="STRASSE").exists()
