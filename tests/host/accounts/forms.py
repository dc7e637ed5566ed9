"""The host's form for a person's own account settings: a plain ModelForm on User."""

from django import forms
from django.contrib.auth import get_user_model


class AccountSettingsForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["username", "email"]
