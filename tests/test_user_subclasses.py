"""A proxy or a multi-table subclass of ``User`` (tests/user_subclasses: ``Member``, ``Editor``) is
claimed, keyed and refused as ``User`` is: through the ORM, a ModelForm on it, its own admin and
ours. Django names the class saved as the signals' sender, never its table."""

import gc

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models.signals import post_init
from django.test.utils import isolate_apps
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.authtoken.models import Token

from authfold.accounts.keys import CaselessConflict
from authfold.accounts.models import (
    CaselessKey,
    IdentifierClaim,
    LoginFailures,
    PendingEmailChange,
    UnconfirmedEmail,
)
from authfold.accounts.user_admin import CaselessUserAdminMixin
from tests.factories import UserFactory
from tests.user_subclasses.models import Editor, Member
from tests.web.pages import STRONG_PASSWORD, new_account_data

User = get_user_model()

pytestmark = pytest.mark.django_db

SUBCLASSES = pytest.mark.parametrize("model", [Editor, Member], ids=["subclass", "proxy"])
TWINS = pytest.mark.parametrize(("taken", "typed"), [("maria", "Maria"), ("straße", "STRASSE")])


def create(model, username, email=None):
    """A saved ``model`` user, as a host's code makes one."""
    return model.objects.create_user(username, email or f"{username}@example.com", "x")


def claimed_by(user):
    """The identifiers the claims table holds for ``user`` (their ``source`` spellings)."""
    return set(IdentifierClaim.objects.filter(user=user.pk).values_list("source", flat=True))


@SUBCLASSES
@TWINS
def test_a_subclass_user_is_refused_beside_a_user_in_another_case(model, taken, typed):
    UserFactory(username=taken)
    with pytest.raises(CaselessConflict):
        create(model, typed)
    assert User.objects.count() == 1


@SUBCLASSES
@TWINS
def test_a_user_is_refused_beside_a_subclass_user_in_another_case(model, taken, typed):
    create(model, taken)
    with pytest.raises(CaselessConflict):
        UserFactory(username=typed)
    assert User.objects.count() == 1


@isolate_apps("tests.user_subclasses")
def test_a_proxy_defined_after_start_up_is_refused_beside_a_user_in_another_case():
    class LateMember(User):
        class Meta:
            app_label = "user_subclasses"
            proxy = True

    UserFactory(username="maria")
    with pytest.raises(CaselessConflict):
        LateMember(username="Maria", email="other@example.com").save()


def test_a_user_model_defined_and_freed_at_run_time_leaves_no_receiver_behind():
    """Django files receivers under their sender's id(), which a later class may reuse: a freed
    class's receivers would then hear that class's signals (a historical ``ContentType``'s
    instances, in a migration test)."""
    gc.collect()
    post_init.has_listeners(User)  # Django drops dead receivers when it next looks
    before = len(post_init.receivers)
    with isolate_apps("tests.user_subclasses"):

        class Transient(User):
            class Meta:
                app_label = "user_subclasses"
                proxy = True

    assert len(post_init.receivers) > before
    del Transient
    gc.collect()
    post_init.has_listeners(User)
    assert len(post_init.receivers) == before


@SUBCLASSES
def test_a_subclass_user_is_refused_an_email_another_account_has_in_another_case(model):
    UserFactory(username="maria", email="maria@example.com")
    with pytest.raises(CaselessConflict) as refused:
        create(model, "pedro", "MARIA@example.com")
    assert refused.value.field == "email"


@SUBCLASSES
def test_a_subclass_user_holds_its_claims_and_its_key_row(model):
    user = create(model, "maria", "maria@example.com")
    assert claimed_by(user) == {"maria", "maria@example.com"}
    assert CaselessKey.objects.filter(user=user.pk).exists()


@SUBCLASSES
def test_renaming_a_subclass_user_moves_its_claims(model):
    user = create(model, "maria", "maria@example.com")
    user = model.objects.get(pk=user.pk)
    user.username = "marisol"
    user.save()
    assert claimed_by(user) == {"marisol", "maria@example.com"}
    assert UserFactory(username="Maria", email="other@example.com").pk


@SUBCLASSES
def test_renaming_a_user_through_its_subclass_moves_its_claims(model):
    user = UserFactory(username="maria", email="maria@example.com")
    if model is Editor:
        Editor(user_ptr=user, desk="news").save_base(raw=True)  # promoted: its editor row only
    renamed = model.objects.get(pk=user.pk)
    renamed.username = "marisol"
    renamed.save()
    assert claimed_by(user) == {"marisol", "maria@example.com"}
    with pytest.raises(CaselessConflict):
        UserFactory(username="MARISOL")


def test_promoting_a_user_under_a_new_name_moves_its_claims():
    user = UserFactory(username="maria", email="maria@example.com")
    Editor.objects.create(user_ptr=user, username="marisol", email="maria@example.com")
    assert claimed_by(user) == {"marisol", "maria@example.com"}
    assert UserFactory(username="Maria", email="other@example.com").pk


def test_promoting_a_user_by_copying_its_fields_keeps_its_claims():
    """As django-cms makes a user a ``PageUser``: a new subclass instance with every field of the
    user, its id included, saved."""
    user = UserFactory(username="maria", email="maria@example.com")
    promoted = Editor(desk="news")
    for user_field in user._meta.local_fields:
        setattr(promoted, user_field.attname, getattr(user, user_field.attname))
    promoted.save()
    assert Editor.objects.get(pk=user.pk).desk == "news"
    assert claimed_by(user) == {"maria", "maria@example.com"}
    with pytest.raises(CaselessConflict):
        UserFactory(username="Maria", email="other@example.com")


def test_deleting_a_proxy_user_frees_its_names():
    # (Deleting an editor deletes its User row too, whose own signal frees the names.)
    user = UserFactory(username="maria", email="maria@example.com")
    Member.objects.get(pk=user.pk).delete()
    assert not IdentifierClaim.objects.exists()
    assert UserFactory(username="Maria", email="MARIA@example.com").pk


def test_deleting_a_proxy_user_deletes_its_pending_address_and_failed_logins():
    user = UserFactory(username="maria", email="maria@example.com")
    PendingEmailChange.objects.create(user=user, email="new@example.org", requested_at=now())
    UnconfirmedEmail.objects.create(user=user, email=user.email, created_at=now())
    LoginFailures.objects.create(user=user, failed_at="1")
    Member.objects.get(pk=user.pk).delete()
    assert not PendingEmailChange.objects.exists()
    assert not UnconfirmedEmail.objects.exists()
    assert not LoginFailures.objects.exists()


@SUBCLASSES
def test_a_subclass_users_password_change_ends_its_api_tokens(model):
    user = create(model, "maria")
    Token.objects.create(user=user)
    user = model.objects.get(pk=user.pk)
    user.set_password(STRONG_PASSWORD)
    user.save()
    assert not Token.objects.filter(user=user.pk).exists()


class EditorForm(forms.ModelForm):
    """A host's own ModelForm on its subclass."""

    class Meta:
        model = Editor
        fields = ("username", "email", "desk")


@TWINS
def test_a_model_form_on_the_subclass_refuses_a_twin_of_an_editor(taken, typed):
    create(Editor, taken)
    form = EditorForm({"username": typed, "email": "new@example.com", "desk": "news"})
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["username"]] == ["username_taken"]


def test_a_model_form_on_the_subclass_refuses_an_editors_email_in_another_case():
    create(Editor, "maria", "maria@example.com")
    form = EditorForm({"username": "pedro", "email": "MARIA@example.com", "desk": "news"})
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["email"]] == ["email_taken"]


@pytest.mark.parametrize("model", [Editor, Member], ids=["subclass", "proxy"])
def test_the_hosts_stock_admin_of_a_subclass_is_put_under_the_rule(model):
    assert isinstance(admin.site._registry[model], CaselessUserAdminMixin)


def admin_url(model, action, *args):
    return reverse(f"admin:user_subclasses_{model._meta.model_name}_{action}", args=args)


def error_codes(response, field):
    form = response.context["adminform"].form
    return {error.code for error in form.errors.as_data().get(field, [])}


@SUBCLASSES
@TWINS
def test_the_subclass_admin_add_form_refuses_a_twin(admin_client, model, taken, typed):
    create(model, taken)
    data = new_account_data(username=typed, usable_password="true", desk="news")
    response = admin_client.post(admin_url(model, "add"), data)
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
    assert User.objects.filter(username=typed).count() == 0


@SUBCLASSES
def test_the_subclass_admin_change_form_refuses_a_shared_email(admin_client, model):
    create(Editor, "maria", "maria@example.com")
    pedro = create(model, "pedro")
    data = {
        "username": "pedro",
        "email": "MARIA@example.com",
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "12:00:00",
        "desk": "news",
    }
    response = admin_client.post(admin_url(model, "change", pedro.pk), data)
    assert response.status_code == 200
    assert error_codes(response, "email") == {"email_taken"}
    assert User.objects.get(pk=pedro.pk).email == "pedro@example.com"


@TWINS
def test_the_user_admin_refuses_a_twin_of_an_editor(admin_client, taken, typed):
    create(Editor, taken)
    data = new_account_data(username=typed, usable_password="true")
    response = admin_client.post(reverse("admin:auth_user_add"), data)
    assert response.status_code == 200
    assert error_codes(response, "username") == {"username_taken"}
