"""Builds the demo's database the way a years-old production project would look.

Django's own tables are migrated, django-authfold's are not, and users are inserted straight into
``auth_user`` (``bulk_create``: no validation, no signals), as old sign-up code, imports and a
case-sensitive database let them pile up: case-variant twins, Unicode twins, shared and blank
emails, an account without a usable password.
"""

import os
import sys
from datetime import timedelta

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from mysite.demo import DEMO_PASSWORD  # noqa: E402

# username, email, active, staff, days since last login (None: never), days since joining
LEGACY_USERS = [
    ("maria", "maria@example.com", True, True, 1, 2000),
    ("Maria", "maria.garcia@example.com", True, False, None, 900),
    ("MARIA", "MARIA@example.com", False, False, 400, 1200),
    ("Straße", "strasse@example.de", True, False, 10, 700),
    ("STRASSE", "", True, False, None, 30),
    ("Джон", "john@example.com", True, False, 5, 600),
    ("джон", "John@Example.com", True, False, 50, 650),
    ("ana", "ana@example.com", True, False, 3, 100),
    ("legacy_bob", "", True, False, 700, 3000),
    ("social_sam", "sam@example.com", True, False, None, 10),
]


def build():
    if connection.vendor != "sqlite":
        sys.exit("The legacy demo database is built on SQLite only (it deletes what it finds).")
    for app in ("contenttypes", "auth", "admin", "sessions", "authtoken"):
        call_command("migrate", app, verbosity=0)
    password = make_password(DEMO_PASSWORD)
    now = timezone.now()
    User = get_user_model()
    User.objects.bulk_create(
        User(
            username=username,
            email=email,
            is_active=active,
            is_staff=staff,
            is_superuser=staff,
            password=make_password(None) if username == "social_sam" else password,
            last_login=None if last_login is None else now - timedelta(days=last_login),
            date_joined=now - timedelta(days=joined),
        )
        for username, email, active, staff, last_login, joined in LEGACY_USERS
    )
    print(f"Built a legacy database with {len(LEGACY_USERS)} users (password: {DEMO_PASSWORD}).")


if __name__ == "__main__":
    build()
