"""The host's admin for its user classes, on Django's stock ``UserAdmin`` (registered when this
module is imported, as a host's ``admin.py`` is)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from tests.user_subclasses.models import Editor, Member


@admin.register(Editor)
class EditorAdmin(UserAdmin):
    """The stock add form (no email field) with the editor's desk."""

    add_fieldsets = ((None, {"fields": (*UserAdmin.add_fieldsets[0][1]["fields"], "desk")}),)
    fieldsets = (*UserAdmin.fieldsets, ("Desk", {"fields": ("desk",)}))


admin.site.register(Member, UserAdmin)
