"""Twins written the way legacy data and bulk imports write them: around ``Model.save()``."""

from itertools import count

from django.contrib.auth import get_user_model
from django.db import connection

from authfold.accounts.models import CaselessKey, RenameRecord
from authfold.data_migrations.postgres_keys import drop_username_index
from authfold.data_migrations.resolution import resolve_username_conflicts

User = get_user_model()
serial = count()


def allow_legacy_twins():
    """Legacy twins predate migration 0008: on PostgreSQL, drop its expression index for this
    test (the test's transaction brings it back, or ``tests/conftest.py`` after a transactional
    test)."""
    if connection.vendor == "postgresql":
        with connection.schema_editor() as editor:
            drop_username_index(editor, User)


def bulk_users(*usernames, **fields):
    """Insert users with ``bulk_create`` (no signals, so no key rows); returns them in order.
    Twins among them are legacy data (see :func:`allow_legacy_twins`)."""
    allow_legacy_twins()
    User.objects.bulk_create(
        [
            User(
                username=name,
                email=fields.get("email", f"twin{next(serial)}@example.com"),
                **{k: v for k, v in fields.items() if k != "email"},
            )
            for name in usernames
        ]
    )
    return [User.objects.get(username=name) for name in usernames]


def resolve(**kwargs):
    """Run the whole engine on the default database with the real models."""
    return resolve_username_conflicts(User, CaselessKey, RenameRecord, "default", **kwargs)
