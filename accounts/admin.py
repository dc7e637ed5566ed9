"""Admin registrations of django-authfold: the read-only rename log, and the User admin's pieces.

``CaselessUserAdminMixin``, ``UserAdmin`` and ``compose_user_admin`` live in
:mod:`authfold.accounts.user_admin` and are importable from here. They need a user model with a
``username`` field; for any other, only the rename log is registered (``authfold.E001`` explains).
"""

from django.contrib import admin

from authfold.accounts.models import RenameRecord
from authfold.accounts.user_model import keyed_user_model, logs_in_by_username

if logs_in_by_username(keyed_user_model()):
    from authfold.accounts.user_admin import (  # noqa: F401 (importable from here)
        CaselessUserAdminMixin,
        UserAdmin,
        compose_user_admin,
    )


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
