"""A host's own ModelForm on User (and ``full_clean``) gets the rule from the user model's
``validate_unique`` (``AUTHFOLD_VALIDATE_USER_MODEL``): field errors with our codes, never a 500."""

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model

from authfold.accounts.forms import ProfileForm, SignUpForm
from authfold.accounts.models import CaselessKey
from authfold.accounts.user_validation import install_identity_rule, uninstall_identity_rule
from authfold.data_migrations.keys import backfill_caseless_keys
from tests.factories import UserFactory
from tests.twins import bulk_users
from tests.web.pages import new_account_data

pytestmark = pytest.mark.django_db

User = get_user_model()


class HostUserForm(forms.ModelForm):
    """What a host project writes: a plain ModelForm, none of our fields or checks."""

    class Meta:
        model = User
        fields = ["username", "email"]


class HostUsernameOnlyForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["username"]


def codes(form, field):
    return [error.code for error in form.errors.as_data().get(field, [])]


@pytest.mark.parametrize(
    ("existing", "typed"),
    [("maria", "MARIA"), ("Straße", "STRASSE"), ("ＭＡＲＩＡ", "maria"), ("maria", "maria")],
    ids=["ASCII case", "Unicode folding", "NFKC width", "exact spelling"],
)
def test_host_model_form_refuses_a_caseless_twin_on_username(existing, typed):
    UserFactory(username=existing)
    form = HostUserForm(data={"username": typed, "email": "new@example.com"})
    assert not form.is_valid()
    assert codes(form, "username") == ["username_taken"]


def test_host_model_form_lets_a_user_change_the_case_of_their_own_name():
    user = UserFactory(username="maria")
    form = HostUserForm(instance=user, data={"username": "Maria", "email": user.email})
    assert form.is_valid(), form.errors
    form.save()
    user.refresh_from_db()
    assert user.username == "Maria"


def test_host_model_form_refuses_renaming_onto_another_accounts_name():
    UserFactory(username="maria")
    user = UserFactory(username="pedro")
    form = HostUserForm(instance=user, data={"username": "MARIA", "email": user.email})
    assert not form.is_valid()
    assert codes(form, "username") == ["username_taken"]


def test_host_model_form_requires_an_email_for_a_new_user():
    form = HostUserForm(data={"username": "maria", "email": ""})
    assert not form.is_valid()
    assert codes(form, "email") == ["email_required"]


def test_host_model_form_refuses_an_email_another_account_has_in_another_case():
    UserFactory(email="maria@example.com")
    form = HostUserForm(data={"username": "maria", "email": "MARIA@EXAMPLE.COM"})
    assert not form.is_valid()
    assert codes(form, "email") == ["email_taken"]


def test_host_model_form_refuses_changing_to_another_accounts_email():
    UserFactory(email="maria@example.com")
    user = UserFactory(username="pedro")
    form = HostUserForm(instance=user, data={"username": "pedro", "email": "Maria@example.com"})
    assert not form.is_valid()
    assert codes(form, "email") == ["email_taken"]


def test_host_model_form_keeps_a_legacy_shared_email_left_unchanged():
    UserFactory(username="maria", email="family@example.com")
    [user] = bulk_users("pedro", email="family@example.com")  # shared before migration 0007
    backfill_caseless_keys(User, CaselessKey, "default")  # as 0007 leaves it: grandfathered
    form = HostUserForm(instance=user, data={"username": "Pedro", "email": "family@example.com"})
    assert form.is_valid(), form.errors


def test_host_model_form_lets_a_legacy_account_keep_its_blank_email():
    user = UserFactory(username="pedro", email="")
    form = HostUserForm(instance=user, data={"username": "Pedro", "email": ""})
    assert form.is_valid(), form.errors


def test_host_model_form_refuses_blanking_an_accounts_email():
    user = UserFactory(username="pedro")
    form = HostUserForm(instance=user, data={"username": "pedro", "email": ""})
    assert not form.is_valid()
    assert codes(form, "email") == ["email_required"]


def test_host_form_without_an_email_field_is_not_asked_for_one():
    form = HostUsernameOnlyForm(data={"username": "maria"})
    assert form.is_valid(), form.errors


def test_a_legacy_twin_may_still_save_its_own_unchanged_name():
    maria, _ = bulk_users("maria", "Maria")
    form = HostUserForm(instance=maria, data={"username": "maria", "email": "maria@example.com"})
    assert form.is_valid(), form.errors


def test_full_clean_refuses_a_caseless_twin_with_our_code():
    UserFactory(username="maria")
    with pytest.raises(ValidationError) as refused:
        User(username="MARIA", email="new@example.com", password="!").full_clean()
    assert [error.code for error in refused.value.error_dict["username"]] == ["username_taken"]


def test_validate_unique_still_runs_djangos_own_checks_on_other_fields():
    """The rule runs beside Django's check, not instead of it: excluded fields stay excluded."""
    UserFactory(username="maria")
    User(username="MARIA", email="").validate_unique(exclude=["username", "email"])


@pytest.fixture
def hook_off():
    uninstall_identity_rule(User)
    yield
    install_identity_rule(User)


def test_with_the_hook_off_the_user_model_validates_as_django_does(hook_off):
    UserFactory(username="maria")
    assert User.validate_unique is Model.validate_unique
    assert HostUserForm(data={"username": "MARIA", "email": ""}).is_valid()


def test_our_sign_up_form_reports_a_twin_once():
    UserFactory(username="maria")
    form = SignUpForm(data=new_account_data(username="MARIA"))
    assert not form.is_valid()
    assert codes(form, "username") == ["username_taken"]


def test_our_sign_up_form_reports_an_exact_twin_once():
    UserFactory(username="maria")
    form = SignUpForm(data=new_account_data(username="maria"))
    assert not form.is_valid()
    assert codes(form, "username") == ["username_taken"]


def test_our_sign_up_form_reports_a_shared_email_once():
    UserFactory(email="maria@example.com")
    form = SignUpForm(data=new_account_data(email="MARIA@example.com"))
    assert not form.is_valid()
    assert codes(form, "email") == ["email_taken"]


def test_our_profile_form_reports_a_twin_and_a_blank_email_once():
    UserFactory(username="maria")
    user = UserFactory(username="pedro")
    form = ProfileForm(instance=user, data={"username": "MARIA", "email": ""})
    assert not form.is_valid()
    assert codes(form, "username") == ["username_taken"]
    assert codes(form, "email") == ["email_required"]
