"""Admin registrations of django-authfold."""

from django.contrib import admin  # noqa: E402

from accounts.models import RenameRecord  # noqa: E402


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
