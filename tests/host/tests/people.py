"""The accounts the host's tests make, and the one password they all share."""

from itertools import count

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

PASSWORD = "correct horse battery"
serial = count()


def legacy_users(*usernames, password=PASSWORD):
    """Insert accounts the way years of case-sensitive sign-ups and imports left them: with
    ``bulk_create``, so no signal runs (no profile, no caseless key). Returns them in order."""
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(
                username=name,
                email=f"legacy{next(serial)}@example.com",
                password=make_password(password),
            )
            for name in usernames
        ]
    )
    return [User.objects.get(username=name) for name in usernames]
