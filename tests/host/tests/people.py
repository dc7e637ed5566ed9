"""The accounts the host's tests make, and the one password they all share."""

from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery"


def legacy_users(*usernames):
    """Insert accounts the way years of case-sensitive sign-ups and imports left them: with
    ``bulk_create``, so no signal runs (no profile, no caseless key). Returns them in order."""
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(username=name, email=f"{name.lower()}.{n}@example.com")
            for n, name in enumerate(usernames)
        ]
    )
    return [User.objects.get(username=name) for name in usernames]
