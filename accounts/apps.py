"""App configuration: connects the receivers that keep caseless keys in step with users, end a
user's API tokens and pending email change when the password changes and tell renamed people
their new name at login, and puts the host's own code on ``User`` under the rule (each part can
be switched off, docs/SETTINGS.md)."""

from django.apps import AppConfig, apps


class AccountsConfig(AppConfig):
    name = "authfold.accounts"
    # Not "accounts": that is the most common app label in host projects.
    label = "authfold"
    verbose_name = "django-authfold"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in

        from authfold.accounts import checks, checks_order, checks_settings, keys  # noqa: F401
        from authfold.accounts.conf import authfold_setting
        from authfold.accounts.login import tell_renamed_login
        from authfold.accounts.password_changes import connect_password_change_receivers
        from authfold.accounts.token_revocation import connect_token_revocation
        from authfold.accounts.user_model import logs_in_by_username
        from authfold.accounts.user_validation import install_identity_rule

        connect_deletion_receivers()
        user_model = get_user_model()
        if not logs_in_by_username(user_model):
            # Nothing to fold: the forms and admin need a username field, so only the system
            # checks load, and authfold.E001 tells the project why.
            return
        keys.connect_receivers()
        connect_password_change_receivers()
        connect_token_revocation()
        user_logged_in.connect(tell_renamed_login, dispatch_uid="authfold.tell_renamed_login")
        if authfold_setting("AUTHFOLD_VALIDATE_USER_MODEL"):
            install_identity_rule(user_model)
        if authfold_setting("AUTHFOLD_ADMIN") and apps.is_installed("django.contrib.admin"):
            compose_admin()


def connect_deletion_receivers():
    """A deleted user's rows in our tables that its foreign keys would not let go of, and its
    failed logins, are deleted with it, whichever of the user model's classes deletes it."""
    from django.db.models.signals import post_delete, pre_delete

    from authfold.accounts.models import drop_email_verification_rows, forget_login_failures
    from authfold.accounts.user_model import connect_to_user_models

    connect_to_user_models(pre_delete, drop_email_verification_rows, "authfold-drop-email-rows")
    connect_to_user_models(post_delete, forget_login_failures, "authfold-forget-login-failures")


def compose_admin():
    """Register the user model's admin under the rule, whichever app's ``ready()`` runs first.

    The host's ``admin.py`` modules are imported by ``AdminConfig.ready()``, which may run before
    or after ours (``INSTALLED_APPS`` order); running the same autodiscovery here first makes the
    registrations present either way (importing a module twice is a no-op). A project on
    ``SimpleAdminConfig`` has asked for no autodiscovery: only what it registered so far is seen.
    """
    from django.contrib import admin
    from django.contrib.admin.apps import AdminConfig

    from authfold.accounts.user_admin import compose_user_admin

    if isinstance(apps.get_app_config("admin"), AdminConfig):
        admin.autodiscover()
    compose_user_admin(admin.site)
