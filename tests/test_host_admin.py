"""The admin composes with the host's: a host's own UserAdmin is kept (its inline, list and forms)
and gets the rule through ``CaselessUserAdminMixin``; only Django's stock UserAdmin is replaced,
whatever the order of the apps in ``INSTALLED_APPS``."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from rest_framework.authtoken.models import Token

from authfold.accounts.admin import CaselessUserAdminMixin, UserAdmin, compose_user_admin
from tests.django_process import run_manage
from tests.factories import UserFactory
from tests.web.pages import STRONG_PASSWORD, take_after_check

User = get_user_model()


class TokenInline(admin.StackedInline):
    model = Token
    extra = 0


class HostChangeForm(DjangoUserChangeForm):
    """A host's own change form with a rule of its own."""

    def clean_username(self):
        if self.cleaned_data["username"].startswith("staff_"):
            raise ValidationError("Staff names are given out by IT.", code="host_rule")
        return self.cleaned_data["username"]


class HostAddForm(DjangoUserAdmin.add_form):
    """The stock add form, as a class of the host's own (so a test can race it)."""


class HostUserAdmin(DjangoUserAdmin):
    """What a host project registers: Django's UserAdmin with an inline and its own list."""

    form = HostChangeForm
    add_form = HostAddForm
    inlines = [TokenInline]
    list_display = ("username", "email", "date_joined")


site = admin.AdminSite(name="admin")
site.register(User, HostUserAdmin)
compose_user_admin(site)
urlpatterns = [path("admin/", site.urls)]

NO_TOKENS = {"auth_token-TOTAL_FORMS": "0", "auth_token-INITIAL_FORMS": "0"}


def error_codes(response, field):
    """The codes of the errors on ``field`` of the page's user form (not of an inline's form)."""
    form = response.context["adminform"].form
    return {error.code for error in form.errors.as_data().get(field, [])}


def add_data(**changes):
    return {
        "username": "maria",
        "usable_password": "true",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
        **NO_TOKENS,
        **changes,
    }


def change_data(user, **changes):
    return {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "12:00:00",
        **NO_TOKENS,
        **changes,
    }


def test_a_host_user_admin_is_kept_with_the_mixin_in_front():
    composed = type(site._registry[User])
    assert composed.__mro__[1:3] == (CaselessUserAdminMixin, HostUserAdmin)
    assert composed.__name__ == "HostUserAdmin"


def test_a_host_user_admin_keeps_its_inline_list_and_forms():
    registered = site._registry[User]
    assert registered.inlines == [TokenInline]
    assert registered.list_display == ("username", "email", "date_joined")
    assert (registered.form, registered.add_form) == (HostChangeForm, HostAddForm)


def test_djangos_stock_user_admin_is_replaced_by_ours():
    stock_site = admin.AdminSite(name="stock")
    stock_site.register(User, DjangoUserAdmin)
    assert compose_user_admin(stock_site) is UserAdmin
    assert type(stock_site._registry[User]) is UserAdmin


def test_an_admin_that_already_has_the_mixin_is_left_as_it_is():
    class HandMixed(CaselessUserAdminMixin, HostUserAdmin):
        pass

    mixed_site = admin.AdminSite(name="mixed")
    mixed_site.register(User, HandMixed)
    compose_user_admin(mixed_site)
    assert type(mixed_site._registry[User]) is HandMixed


def test_a_site_without_a_user_admin_gets_none():
    assert compose_user_admin(admin.AdminSite(name="empty")) is None


def test_the_demo_admin_site_registers_ours_in_place_of_the_stock_one():
    assert type(admin.site._registry[User]) is UserAdmin


@pytest.mark.urls(__name__)
@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["MARIA", "Maria", "maria"])
def test_a_host_user_admin_refuses_a_twin_with_a_form_error(admin_client, typed):
    UserFactory(username="maria")
    response = admin_client.post(reverse("admin:auth_user_add"), add_data(username=typed))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
    assert response.context["adminform"].form.errors["username"] == [
        f"This username is taken. Usernames ignore case, so “{typed}” counts as the same name."
    ]
    assert User.objects.filter(username__iexact="maria").count() == 1


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_host_user_admin_still_adds_a_free_name(admin_client):
    response = admin_client.post(reverse("admin:auth_user_add"), add_data(username="pedro"))
    assert response.status_code == 302
    assert User.objects.filter(username="pedro").exists()


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_host_user_admin_change_page_keeps_its_inline_and_refuses_a_twin(admin_client):
    UserFactory(username="maria")
    pedro = UserFactory(username="pedro")
    url = reverse("admin:auth_user_change", args=[pedro.pk])
    assert len(admin_client.get(url).context["inline_admin_formsets"]) == 1
    response = admin_client.post(url, change_data(pedro, username="MARIA"))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
    pedro.refresh_from_db()
    assert pedro.username == "pedro"


@pytest.mark.urls(__name__)
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "code"), [("", "email_required"), ("MARIA@example.com", "email_taken")]
)
def test_a_host_user_admin_refuses_a_missing_or_shared_email(admin_client, typed, code):
    UserFactory(username="maria", email="maria@example.com")
    pedro = UserFactory(username="pedro")
    url = reverse("admin:auth_user_change", args=[pedro.pk])
    response = admin_client.post(url, change_data(pedro, email=typed))
    assert response.status_code == 200
    assert error_codes(response, "email") == {code}
    pedro.refresh_from_db()
    assert pedro.email == "pedro@example.com"


@pytest.mark.urls(__name__)
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "typed", "code"),
    [
        ("username", "Maria@Example.com", "username_is_email_of_other"),
        ("email", "JOHN@example.com", "email_is_username_of_other"),
    ],
)
def test_a_host_user_admin_refuses_another_accounts_address_as_name_and_back(
    admin_client, field, typed, code
):
    UserFactory(username="maria", email="maria@example.com")
    UserFactory(username="john@example.com", email="john@example.org")
    pedro = UserFactory(username="pedro")
    url = reverse("admin:auth_user_change", args=[pedro.pk])
    response = admin_client.post(url, change_data(pedro, **{field: typed}))
    assert response.status_code == 200
    assert error_codes(response, field) == {code}
    pedro.refresh_from_db()
    assert (pedro.username, pedro.email) == ("pedro", "pedro@example.com")


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_host_forms_own_rules_still_run_after_ours(admin_client):
    pedro = UserFactory(username="pedro")
    url = reverse("admin:auth_user_change", args=[pedro.pk])
    response = admin_client.post(url, change_data(pedro, username="staff_pedro"))
    assert response.status_code == 200
    assert error_codes(response, "username") == {"host_rule"}


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_host_user_admin_that_loses_the_race_shows_a_field_error(admin_client, monkeypatch):
    take_after_check(monkeypatch, HostAddForm, username="MARIA", email="other@example.com")
    response = admin_client.post(reverse("admin:auth_user_add"), add_data(username="maria"))
    assert response.status_code == 200
    assert "username_taken" in error_codes(response, "username")
    assert not User.objects.filter(username="maria").exists()


HOST_APP_ADMIN = """
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token


class TokenInline(admin.StackedInline):
    model = Token


class ShopUserAdmin(UserAdmin):
    inlines = [TokenInline]


admin.site.unregister(User)
admin.site.register(User, ShopUserAdmin)
"""

SHOW_USER_ADMIN = (
    "from django.contrib import admin; from django.contrib.auth.models import User; "
    "registered = type(admin.site._registry[User]); "
    "print(*[cls.__name__ for cls in registered.__mro__[:3]], registered.inlines[0].__name__)"
)

ORDERS = {
    "host app first": "INSTALLED_APPS = ['shop'] + INSTALLED_APPS\n",
    "host app last": "INSTALLED_APPS = INSTALLED_APPS + ['shop']\n",
    "ours after the admin and the host app": (
        "INSTALLED_APPS = [app for app in INSTALLED_APPS if app != 'authfold.accounts']"
        " + ['shop', 'authfold.accounts']\n"
    ),
}


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS)
def test_composition_does_not_depend_on_the_order_of_installed_apps(tmp_path, order):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "admin.py").write_text(HOST_APP_ADMIN)
    finished = run_manage(tmp_path, "shell", "-v", "0", "-c", SHOW_USER_ADMIN, settings_text=order)
    assert finished.stdout.split() == [
        "ShopUserAdmin",
        "CaselessUserAdminMixin",
        "ShopUserAdmin",
        "TokenInline",
    ], finished.stderr


def test_with_authfold_admin_off_the_stock_user_admin_stays(tmp_path):
    show = (
        "from django.contrib import admin; from django.contrib.auth.models import User; "
        "print(type(admin.site._registry[User]).__module__)"
    )
    finished = run_manage(
        tmp_path, "shell", "-v", "0", "-c", show, settings_text="AUTHFOLD_ADMIN = False\n"
    )
    assert finished.stdout.strip() == "django.contrib.auth.admin", finished.stderr


def test_with_the_user_model_hook_off_validate_unique_is_djangos(tmp_path):
    show = (
        "from django.contrib.auth.models import User; from django.db.models import Model; "
        "print(User.validate_unique is Model.validate_unique)"
    )
    on = run_manage(tmp_path, "shell", "-v", "0", "-c", show)
    off = run_manage(
        tmp_path,
        "shell",
        "-v",
        "0",
        "-c",
        show,
        settings_text="AUTHFOLD_VALIDATE_USER_MODEL = False\n",
    )
    assert (on.stdout.strip(), off.stdout.strip()) == ("False", "True"), on.stderr + off.stderr
