"""A host that mounts our API and not its docs: no ``drf_spectacular`` app, DRF's own schema class.

Only ``tests/test_api_without_docs.py`` uses it, in a separate process, so that nothing the main
settings imported or configured can hide a missing app.
"""

import dj_database_url
import django

SECRET_KEY = "hostless-test-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = [
    "authfold.accounts",  # above django.contrib.auth, as the runbook says (authfold.W002)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
]
ROOT_URLCONF = "tests.hostless.urls"
DATABASES = {"default": dj_database_url.config()}
# The host's own SQLite options, which the runbook's SQLite step must keep (Django 5.2 added
# init_command for SQLite).
if django.VERSION >= (5, 2) and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA cache_size = -4321"}
# docs/ADOPTING.md, step 1, "SQLite only", as written there (the Django version picks the lines).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # also engines that wrap Django's
    if django.VERSION >= (5, 1):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"timeout": 20, "transaction_mode": "IMMEDIATE"}
        )
    else:
        DATABASES["default"]["ENGINE"] = "authfold.accounts.sqlite3"
        DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTHENTICATION_BACKENDS = ["authfold.backends.CaseInsensitiveModelBackend"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
# Production settings name the site their mails link to (check authfold.W006).
AUTHFOLD_SITE_URL = "https://hostless.example.org"
# No DEFAULT_SCHEMA_CLASS: DRF's own AutoSchema, as in a host that never heard of drf-spectacular.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
}
