"""The demo host's settings, tuned so the benchmarks measure lookups and nothing else."""

from mysite.settings import *  # noqa: F403

# DEBUG keeps every query in memory (connection.queries): it would skew both time and memory.
DEBUG = False

# One fast hasher, so hashing does not hide the lookup; the real hasher is measured on its own.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
BENCH_REAL_PASSWORD_HASHER = "django.contrib.auth.hashers.PBKDF2PasswordHasher"

# The seed-style registration endpoint the registration figure compares against.
ROOT_URLCONF = "bench.urls"

# Throughput is what we measure: no throttling of the registration endpoints.
# A scope whose rate is None is not throttled (DRF); the scopes stay defined for the views.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]),  # noqa: F405
}

LOGGING = {"version": 1, "disable_existing_loggers": False}
