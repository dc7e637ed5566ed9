"""The host's User admin: Django's, with the person's profile on the same page."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Profile

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    verbose_name_plural = "profile"


class UserAdmin(DjangoUserAdmin):
    """Django's UserAdmin, with the profile inline and the display name in the list."""

    inlines = [ProfileInline]
    list_display = ("username", "email", "display_name", "is_staff")

    @admin.display(description="display name")
    def display_name(self, user):
        return user.profile.display_name if hasattr(user, "profile") else ""


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
