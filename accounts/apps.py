"""App configuration: connects the receivers that keep caseless keys in step with users."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "authfold.accounts"
    # Not "accounts": that is the most common app label in host projects.
    label = "authfold"
    verbose_name = "django-authfold"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from authfold.accounts import keys

        keys.connect_receivers()
        from authfold.accounts import checks  # noqa: F401 (registers the system checks)
