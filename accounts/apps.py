"""App configuration: connects the receivers that keep caseless keys in step with users."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    label = "accounts"
    verbose_name = "Accounts (django-authfold)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import keys

        keys.connect_receivers()
