"""Settings for the demo and test host, read from the environment.

``DATABASE_URL`` picks the database (default: an SQLite file beside ``manage.py``). The other
``DJANGO_*`` variables default to values that are safe for a local demo and nothing else.
"""

import os
import sys
from pathlib import Path

import dj_database_url
import django

import authfold

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default):
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-insecure-secret-key-change-me")
DEBUG = env_flag("DJANGO_DEBUG", True)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    # Before django.contrib.auth: its createsuperuser and changepassword are ours (authfold.W002).
    "authfold.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
]
if "pytest" in sys.modules:
    # The test suite's multi-table subclass and proxy of User (tests/user_subclasses), in the
    # test process only: the demo, and the tests' child manage.py processes, run without them.
    INSTALLED_APPS.append("tests.user_subclasses")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Sessions that ModelBackend logged in stay logged in now that ours has taken its place.
    "authfold.accounts.middleware.ModelBackendSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A save refused for a caseless twin in a view that is not ours answers 409, not 500.
    "authfold.accounts.middleware.CaselessConflictMiddleware",
    # Last, as django-axes asks: it turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mysite.urls"

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

WSGI_APPLICATION = "mysite.wsgi.application"


def database_from_environment():
    """The ``default`` database from ``DATABASE_URL``, with per-vendor options our tests rely on."""
    config = dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
    )
    engine = config["ENGINE"]
    if engine.endswith("sqlite3"):
        # Concurrent sign-ups queue for the write lock (up to 20 s) instead of failing with
        # "database is locked": transactions take the lock at BEGIN, where the timeout applies.
        # Django 5.1+ has the option; on 4.2 the engine authfold.accounts.sqlite3 does the same.
        config.setdefault("OPTIONS", {})["timeout"] = 20
        if django.VERSION >= (5, 1):
            config["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
        else:
            config["ENGINE"] = "authfold.accounts.sqlite3"
        # The test database is a file too (shared-cache memory's table locks ignore the
        # timeout), so the race tests see what a deployed SQLite does.
        if ":memory:" not in str(config["NAME"]):
            config["TEST"] = {"NAME": f"{config['NAME']}-test.sqlite3"}
    elif engine.endswith("mysql"):
        config.setdefault("OPTIONS", {}).update(
            {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
        )
        # A legacy MariaDB/MySQL database can only hold case-variant twins under a binary
        # collation, so that is what the test database uses unless told otherwise.
        config["TEST"] = {
            "CHARSET": "utf8mb4",
            "COLLATION": os.environ.get("AUTHFOLD_TEST_MYSQL_COLLATION", "utf8mb4_bin"),
        }
    return config


DATABASES = {"default": database_from_environment()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# As docs/LOGIN.md says for a host: django-axes first, ours where ModelBackend was.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "authfold.backends.CaseInsensitiveModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
LOGIN_URL = "authfold:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Emails (password reset, rename notices) print to the console. Django 6.1 replaced
# EMAIL_BACKEND with MAILERS; each version gets the setting it knows.
CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": CONSOLE_EMAIL_BACKEND}}
else:
    EMAIL_BACKEND = CONSOLE_EMAIL_BACKEND

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's TokenAuthentication, with tokens that die with the password on every write path.
        "authfold.accounts.api.authentication.PasswordBoundTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {},
    # A host's own serializers on User: a caseless twin refused on save is a 400, not a 500.
    "EXCEPTION_HANDLER": "authfold.accounts.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "django-authfold demo API",
    "DESCRIPTION": "Case-insensitive usernames and unique emails on the default Django User.",
    "VERSION": authfold.__version__,
    # Swagger UI from drf-spectacular-sidecar's static files (pinned by its version), not a CDN:
    # the docs page works offline and never changes under us.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"authfold": {"handlers": ["console"], "level": "INFO"}},
}

# django-authfold: what the demo site turns on. Every setting and its default: docs/SETTINGS.md.
AUTHFOLD_LOGIN_BY_EMAIL = True
AUTHFOLD_RESERVED_USERNAMES = True
# A new name that looks like an existing one (maría beside maria) is refused.
AUTHFOLD_REFUSE_LOOKALIKES = True

# Accounts created without a password (social sign-up, create_user) can set
# a first one through the password-reset pages.
AUTHFOLD_FIRST_PASSWORD_BY_RESET = True

# The API login's throttle, per client address. 10 a minute lets a
# person mistype a few times and caps a guesser at 14,400 tries a day per address.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"] = "10/min"

# Throttle rates for sign-up (per client address: accounts created an hour, and posts a minute,
# so someone trying names that are taken waits a minute, not an hour) and for profile changes (per
# account), and an OpenAPI schema with separate request and response components (so generated
# clients and schemathesis never send read-only fields), without the schema endpoint itself.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].update(
    {"register": "10/hour", "register_attempt": "10/min", "profile": "30/hour"}
)
SPECTACULAR_SETTINGS.update({"COMPONENT_SPLIT_REQUEST": True, "SERVE_INCLUDE_SCHEMA": False})

# The web login, sign-up and password-reset pages count their posts in the
# API's scopes (the profile page's with the API's "profile", per account); password_reset per
# client address, and login_account counts failed logins per name typed, whatever its spelling
# (an attacker can slow its owner down, never get in).
# NUM_PROXIES is left unset on purpose: clients are told apart by REMOTE_ADDR, and a forged
# X-Forwarded-For changes nothing. Behind one proxy of your own, set it to 1 (docs/ADOPTING.md).
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].update(
    {"password_reset": "10/hour", "login_account": "10/hour"}
)

# Mail: an account's own requests cause at most 10 mails an hour (confirmation links, change
# notices, resent links), and one address receives at most 5 an hour from us, password resets
# included, however its case is spelt. An email change that would mail beyond the account's cap
# is refused (mail_limit); any other mail beyond a cap is not sent, the answer unchanged.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].update(
    {"email_mail": "10/hour", "email_destination": "5/hour"}
)

# The throttles count in the default cache (AUTHFOLD_CACHE is unset), which every worker must
# share: Redis when AUTHFOLD_CACHE_URL names one (redis://127.0.0.1:6379/0), else the database
# (made by `manage.py createcachetable`). Keys are prefixed with the database's name, so test runs
# on databases of their own never count together in one Redis.
if os.environ.get("AUTHFOLD_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["AUTHFOLD_CACHE_URL"],
            "KEY_PREFIX": str(DATABASES["default"]["NAME"]),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "authfold_cache",
        }
    }

# django-axes as a host project has it, counting failures
# per account whatever the spelling (authfold.backends.axes_username), per address and name.
# Off here: the test suite fails logins from one address on purpose; tests/test_axes.py turns it
# on with these settings.
AXES_ENABLED = False
AXES_USERNAME_CALLABLE = "authfold.backends.axes_username"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]

# A request body over 128 KiB is refused before it is read, by Django
# for the web forms and by our API views (413); the largest valid body of our API (a
# 4096-character password, each character a JSON \u escape pair) is under 60 KB. Our JSON parser
# answers JSON nested too deep with a 400, for the host's own API views too.
DATA_UPLOAD_MAX_MEMORY_SIZE = 128 * 1024
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "authfold.accounts.api.parsers.JSONParser",
    "rest_framework.parsers.FormParser",
    "rest_framework.parsers.MultiPartParser",
]

# A new account's address logs in and receives password resets only once the link mailed to it
# is followed; a changed address waits for its link, and the old one is told.
AUTHFOLD_EMAIL_VERIFICATION = "mandatory"
