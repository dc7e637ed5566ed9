"""A legacy database for the resolution tests: Django's tables, our migrations not applied, and
case-variant twins inserted with ``bulk_create``, as years of case-sensitive usernames leave them."""

from datetime import datetime, timedelta, timezone

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from authfold.accounts.caseless import forget_caseless_keys_state

User = get_user_model()
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LONG_LOWER = "x" * 150
LONG_UPPER = "X" * 150
BASE = datetime(2020, 1, 1, tzinfo=timezone.utc)


def day(n):
    return BASE + timedelta(days=n)


# (username, email, is_active, last_login, date_joined)
LEGACY_USERS = [
    # Four variants of one name: an inactive account loses even with the latest login.
    ("maria", "maria1@example.com", True, day(10), day(1)),
    ("Maria", "maria2@example.com", True, day(50), day(2)),
    ("MARIA", "maria3@example.com", True, None, day(3)),
    ("ＭＡＲＩＡ", "maria4@example.com", False, day(90), day(4)),
    # Unicode case: ß folds to ss; the earliest joined keeps the name when nobody logged in.
    ("STRASSE", "strasse1@example.com", True, None, day(6)),
    ("Straße", "strasse2@example.com", True, None, day(5)),
    ("Джон", "john1@example.com", True, day(30), day(7)),
    ("джон", "john2@example.com", True, day(20), day(8)),
    # A perfect tie: the lowest id keeps the name. Both have blank emails.
    ("tie", "", True, None, day(9)),
    ("TIE", "  ", True, None, day(9)),
    # Suffixes already taken: BOB cannot become BOB_1 (bob_1) or BOB_2 (BOB_2 exists).
    ("bob", "bob@example.com", True, day(40), day(10)),
    ("BOB", "bob2@example.com", True, day(5), day(11)),
    ("bob_1", "bob3@example.com", True, None, day(12)),
    ("BOB_2", "bob4@example.com", True, None, day(13)),
    # 150 characters: the stem is shortened, never the number; x…x_1 is taken already.
    (LONG_LOWER, "long1@example.com", True, day(3), day(14)),
    (LONG_UPPER, "long2@example.com", True, None, day(15)),
    ("x" * 148 + "_1", "long3@example.com", True, None, day(16)),
    # Not twins: no Turkish tailoring, so İ is not I. Same email in different case: reported.
    ("İstanbul", "Shared@Example.com", True, None, day(17)),
    ("istanbul", "shared@example.COM", True, None, day(18)),
    ("nopassword", "nopassword@example.com", True, None, day(19)),
]

EXPECTED_RENAMES = {
    "maria": "maria_1",
    "MARIA": "MARIA_2",
    "ＭＡＲＩＡ": "ＭＡＲＩＡ_3",
    "STRASSE": "STRASSE_1",
    "джон": "джон_1",
    "TIE": "TIE_1",
    "BOB": "BOB_3",
    LONG_UPPER: "X" * 148 + "_2",
}


def password_of(username):
    return f"secret of {username}"


def insert_legacy_users(users=LEGACY_USERS):
    """Bulk-insert ``users`` (no signals, no keys) and return {username: id}."""
    rows = [
        User(
            username=username,
            email=email,
            is_active=active,
            last_login=last_login,
            date_joined=joined,
            password="!" if username == "nopassword" else make_password(password_of(username)),
        )
        for username, email, active, last_login, joined in users
    ]
    User.objects.bulk_create(rows)
    return dict(User.objects.values_list("username", "pk"))


def migrate_accounts(target):
    """Move the accounts app to ``target`` (a migration name, ``None`` for zero, or ``"latest"``)."""
    executor = MigrationExecutor(connection)
    if target == "latest":
        targets = executor.loader.graph.leaf_nodes("authfold")
    else:
        targets = [("authfold", target)]
    executor.migrate(targets)
    forget_caseless_keys_state()


def usernames_by_id():
    return dict(User.objects.values_list("pk", "username"))
