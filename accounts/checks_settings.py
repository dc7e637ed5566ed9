"""System checks on settings a host builds its own way (a module, ``settings.configure()``).

- ``authfold.E003``: ``AUTHFOLD_CACHE`` names an alias ``CACHES`` does not have; every throttled
  page would answer 500 (``InvalidCacheBackendError``).
- ``authfold.E004``: ``MIGRATION_MODULES`` turns off ``django.contrib.auth``'s migrations (a test
  runner's speed-up, say). Ours add to ``auth_user`` and depend on auth's: without them ``migrate``
  records ours before ``auth.0001`` and fails later with ``InconsistentMigrationHistory``.
"""

from django.apps import apps
from django.conf import settings
from django.core import checks

from authfold.accounts.checks import checks_our_app
from authfold.accounts.conf import authfold_setting

E003 = "authfold.E003"
E004 = "authfold.E004"


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
    """``authfold.E004``: ``django.contrib.auth`` must keep its migrations, ours depend on them."""
    if not checks_our_app(app_configs) or not apps.is_installed("django.contrib.auth"):
        return []
    label = apps.get_app_config("auth").label
    modules = getattr(settings, "MIGRATION_MODULES", {})
    if label not in modules or modules[label] is not None:
        return []
    return [
        checks.Error(
            f"MIGRATION_MODULES turns off the migrations of django.contrib.auth ({label!r}: None): "
            "django-authfold's migrations depend on them, and migrate would apply ours before "
            "auth's tables exist.",
            hint=f"Remove {label!r} from MIGRATION_MODULES (turning off migrations for a test "
            "database is done app by app: keep auth's and ours).",
            id=E004,
        )
    ]
