"""System checks on settings the runbook adds, and on test settings that would break ours.

- ``authfold.E003``: ``AUTHFOLD_CACHE`` names an alias ``CACHES`` does not have; every throttled
  page would answer 500 (``InvalidCacheBackendError``).
- ``authfold.W008``: ``MIGRATION_MODULES`` turns off ``django.contrib.auth``'s migrations (a test
  runner's speed-up; Django's own runner does it). Ours still load and run (0002 then depends on
  auth's ``__first__``), but a database migrated so records ours without auth's: migrated later
  with auth's migrations on (a migration test, ``--keepdb``), it fails with
  ``InconsistentMigrationHistory``. A warning, not an error: Django's own test runner must run.
"""

from django.apps import apps
from django.conf import settings
from django.core import checks

from authfold.accounts.checks import checks_our_app
from authfold.accounts.conf import authfold_setting

E003 = "authfold.E003"
W008 = "authfold.W008"


@checks.register(checks.Tags.caches)
def check_throttle_cache_alias(app_configs=None, **kwargs):
    """``authfold.E003``: the throttles' cache alias must be one of ``CACHES``."""
    if not checks_our_app(app_configs):
        return []
    alias = authfold_setting("AUTHFOLD_CACHE")
    if alias in settings.CACHES:
        return []
    return [
        checks.Error(
            f"AUTHFOLD_CACHE is {alias!r}, which CACHES does not define: the throttles of the "
            "login, sign-up and password-reset pages would fail.",
            hint="Add the alias to CACHES (docs/ADOPTING.md, step 3), or name one of yours in "
            "AUTHFOLD_CACHE.",
            id=E003,
        )
    ]


@checks.register(checks.Tags.compatibility)
def check_auth_migrations_enabled(app_configs=None, **kwargs):
    """``authfold.W008``: ``django.contrib.auth``'s migrations turned off, which ours follow."""
    if not checks_our_app(app_configs) or not apps.is_installed("django.contrib.auth"):
        return []
    label = apps.get_app_config("auth").label
    modules = getattr(settings, "MIGRATION_MODULES", {})
    if label not in modules or modules[label] is not None:
        return []
    return [
        checks.Warning(
            f"MIGRATION_MODULES turns off the migrations of django.contrib.auth ({label!r}: None). "
            "django-authfold's migrations depend on them: a database migrated with these "
            "settings records ours without auth's, and migrating it later with auth's migrations "
            "on fails with InconsistentMigrationHistory (ours applied before auth.0001).",
            hint=f"Remove {label!r} from MIGRATION_MODULES, or never migrate a database made with "
            "these settings with other settings (a migration test, --keepdb). Silence "
            f"{W008} where auth's migrations are off on purpose.",
            id=W008,
        )
    ]
