"""The User admin under the rule: the mixin a host can use by hand, ours in place of Django's stock
one, and the composition that ``AppConfig.ready`` applies to ``admin.site`` (``AUTHFOLD_ADMIN``)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from authfold.accounts.forms import CaselessIdentityMixin, UserAddForm, UserChangeForm
from authfold.accounts.keys import CaselessConflict
from authfold.accounts.user_model import is_keyed_user_model


class CaselessUserAdminMixin:
    """Puts a User admin under the rule: its add and change forms check username and email with
    ``CaselessIdentityMixin`` (their own ``clean_username``/``clean_email`` still run after ours),
    and a save that loses a race for the name comes back as a form error, never a 500.

    Mix it in first: ``class MyUserAdmin(CaselessUserAdminMixin, UserAdmin)``. With
    ``AUTHFOLD_ADMIN`` on, :func:`compose_user_admin` does that for the host's registered class.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except CaselessConflict as conflict:
            # The form's check passed, then another account took the name before the save; the
            # database refused it and the admin's transaction undid it. Show the form again, with
            # the error on the field the database named.
            request.authfold_lost_race = conflict
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not issubclass(form, CaselessIdentityMixin):
            form = type(form.__name__, (CaselessIdentityMixin, form), {})
        lost_race = getattr(request, "authfold_lost_race", None)
        if lost_race is not None:
            form = type(form.__name__, (form,), {"lost_race": lost_race})
        return form


class UserAdmin(CaselessUserAdminMixin, DjangoUserAdmin):
    """What replaces Django's stock UserAdmin: its add and change forms refuse caseless twins,
    shared or missing emails and weak passwords, like every other door; email is asked for when
    adding."""

    form = UserChangeForm
    add_form = UserAddForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "password1", "password2"),
            },
        ),
    )


def compose_user_admin(site):
    """Put ``site``'s registrations of the user model under the rule, keeping the host's choices:
    the model's own, and those of its proxies and multi-table subclasses (their users are users
    too, and the database refuses their twins alike).

    Django's stock ``UserAdmin`` (exactly that class) becomes ours; a host's own admin class gets
    :class:`CaselessUserAdminMixin` mixed in front of it (same name, its inlines, fields and forms
    kept); one that already has the mixin, or no registration at all, is left as it is. Returns
    the class now registered for the user model itself, or ``None``.
    """
    for model, registered in list(site._registry.items()):
        if is_keyed_user_model(model) and not isinstance(registered, CaselessUserAdminMixin):
            site.unregister(model)
            site.register(model, admin_under_the_rule(type(registered)))
    registered = site._registry.get(get_user_model())
    return None if registered is None else type(registered)


def admin_under_the_rule(admin_class):
    """``admin_class`` under the rule: ours in place of Django's stock ``UserAdmin``, any other
    with :class:`CaselessUserAdminMixin` in front (same name and module)."""
    if admin_class is DjangoUserAdmin:
        return UserAdmin
    return type(
        admin_class.__name__,
        (CaselessUserAdminMixin, admin_class),
        {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
    )
