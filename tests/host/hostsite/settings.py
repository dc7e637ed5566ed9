"""Settings of the host project, after adopting django-authfold by ``docs/ADOPTING.md``.

Every line the runbook added or changed is marked ``# authfold:``; everything else is what the host
had before (its own ``accounts`` app, django-axes, its email backend, its database options).
``DATABASE_URL`` picks the database, as in most deployed projects.
"""

from pathlib import Path

import dj_database_url
import django

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "host-project-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    # authfold: before django.contrib.auth, so that its createsuperuser and changepassword
    # (which refuse a caseless twin with a command error) are the ones manage.py runs.
    "authfold.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",  # authfold: the API token login
    "axes",
    # The host's own app: label "accounts", package "accounts".
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # authfold: people logged in through ModelBackend before the adoption stay logged in.
    "authfold.accounts.middleware.ModelBackendSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # authfold: a save of the host's own forms that loses a race for a name answers 409, not 500.
    "authfold.accounts.middleware.CaselessConflictMiddleware",
    # django-axes: last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hostsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'host.sqlite3'}")}
ENGINE = DATABASES["default"]["ENGINE"]
if ENGINE.endswith("sqlite3"):
    # The host's own SQLite options, from before the adoption (Django 5.1+ runs init_command on
    # every new connection; older releases have no such option).
    if django.VERSION >= (5, 1):
        DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA synchronous=NORMAL;"}
    # authfold: SQLite only, merged into the host's options rather than replacing them.
    if django.VERSION >= (5, 1):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"timeout": 20, "transaction_mode": "IMMEDIATE"}
        )
    else:
        DATABASES["default"]["ENGINE"] = "authfold.accounts.sqlite3"
        DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20})
elif ENGINE.endswith("mysql"):
    DATABASES["default"]["OPTIONS"] = {
        "charset": "utf8mb4",
        "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
    }
    # The production database was created with a binary collation years ago, which is how it
    # came to hold usernames that differ only in case; the tests use the same.
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_bin"}
elif ENGINE.endswith("postgresql"):
    DATABASES["default"]["OPTIONS"] = {"options": "-c statement_timeout=30000"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first, so that a locked-out account is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # authfold: in the place of django.contrib.auth.backends.ModelBackend.
    "authfold.backends.CaseInsensitiveModelBackend",
    # The host's own: log in with the email address.
    "accounts.backends.EmailBackend",
]

# django-axes: lock out an account from an address after three failures...
AXES_FAILURE_LIMIT = 3
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# authfold: ...whatever case each failure typed the name in.
AXES_USERNAME_CALLABLE = "authfold.backends.axes_username"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# authfold: the address links in our mails are built on, never the request's Host header.
AUTHFOLD_SITE_URL = "https://host.example.org"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # authfold: a save refused by the database for a caseless twin answers 400, not 500.
    "EXCEPTION_HANDLER": "authfold.accounts.api.exception_handler",
}
