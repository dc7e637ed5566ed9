"""Admin registrations of django-authfold."""

# --- Users (issue 5): Django's UserAdmin, with forms that follow the one rule ----------------------
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from authfold.accounts.forms import UserAddForm, UserChangeForm
from authfold.accounts.keys import CaselessConflict


class UserAdmin(DjangoUserAdmin):
    """Django's UserAdmin whose add and change forms refuse caseless twins, shared or missing
    emails and weak passwords, like every other door; email is asked for when adding."""

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
        lost_race = getattr(request, "authfold_lost_race", None)
        if lost_race is not None:
            form = type(form.__name__, (form,), {"lost_race": lost_race})
        return form


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserAdmin)
# --- end of Users ---------------------------------------------------------------------------------

# --- The rename log (issue 6): read-only -------------------------------------------------------
from authfold.accounts.models import RenameRecord  # noqa: E402


@admin.register(RenameRecord)
class RenameRecordAdmin(admin.ModelAdmin):
    """The log of renames made by conflict resolution: readable by staff, changed by nobody
    (``conflict_audit`` and the migrations write it; reverting goes through the migration)."""

    list_display = (
        "old_username",
        "new_username",
        "user",
        "created_at",
        "notified_at",
        "reverted_at",
    )
    list_filter = ("created_at", "notified_at", "reverted_at")
    search_fields = ("old_username", "new_username")
    readonly_fields = [field.name for field in RenameRecord._meta.fields]
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
