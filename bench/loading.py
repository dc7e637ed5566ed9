"""Loading many users fast: one precomputed password hash, keys from ``authfold.accounts.keys.key_fields``.

PostgreSQL gets ``COPY``; SQLite and MariaDB get batched multi-row inserts in one transaction.
The rows bypass ``Model.save()`` on purpose (a million saves take hours), so the key rows are
written beside them, computed exactly as the receivers compute them.
"""

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone

from authfold.accounts.caseless import same_username, skeleton_digests_ready
from authfold.accounts.key_rows import key_fields
from authfold.accounts.models import CaselessKey

BENCH_PASSWORD = "bench-password-1"
BATCH_SIZE = 10_000

# Legacy tables hold every script; the non-ASCII names keep the keys honest (ß folds to ss).
NAMES = (
    "maria", "john", "aiko", "olivia", "mohammed", "wei", "fatima", "lucas", "amara", "noah",
    "jürgen", "zoë", "straße", "джон", "ελένη", "chloé", "søren", "ayşe", "ángel", "kim",
)  # fmt: skip
CASE_STYLES = (str.lower, str.title, str.upper, str)


@dataclass(frozen=True)
class LoadedUsers:
    """What :func:`load_users` wrote: ids ``first_id`` to ``last_id``; the last ``twins`` of them
    are case-variant twins of earlier users (one twin per group)."""

    first_id: int
    count: int
    twins: int

    @property
    def last_id(self):
        return self.first_id + self.count - 1

    @property
    def twin_ids(self):
        return range(self.last_id - self.twins + 1, self.last_id + 1)

    @property
    def plain_ids(self):
        """Users that are in no twin group (one per name), the ones lookups pick from."""
        return range(self.first_id, self.last_id - self.twins + 1)


def username_for(number):
    """The ``number``-th generated username, in one of the case styles legacy tables hold."""
    name = NAMES[number % len(NAMES)]
    return CASE_STYLES[(number // len(NAMES)) % len(CASE_STYLES)](f"{name}{number}")


def email_for(number):
    """A unique address for the ``number``-th user, in mixed case as users type them."""
    local = ("user", "User", "USER")[number % 3]
    return f"{local}.{number}@example.com"


def twin_of(username):
    """Another spelling with the same caseless key (``maria7`` and ``MARIA7``)."""
    upper = username.upper()
    return upper if upper != username else username.lower()


def generated_users(count, twin_groups):
    """(number, username, email) for ``count`` users, the last ``twin_groups`` of them twins."""
    plain = count - twin_groups
    for number in range(plain):
        yield number, username_for(number), email_for(number)
    for group in range(twin_groups):
        original = group * plain // twin_groups
        yield plain + group, twin_of(username_for(original)), email_for(plain + group)


USER_COLUMNS = (
    "id", "password", "is_superuser", "username", "first_name", "last_name", "email",
    "is_staff", "is_active", "date_joined",
)  # fmt: skip
KEY_COLUMNS = ("user_id", "username_digest", "email_digest")
# Once migration 0006 has run (the plan tests load at the latest migration; the bench at 0001).
SKELETON_COLUMN = "skeleton_digest"


def load_users(count, twin_groups=0, using="default", batch_size=BATCH_SIZE):
    """Insert ``count`` users and their key rows; ``twin_groups`` of them are twins of others.

    Returns a :class:`LoadedUsers`. Every user's password is ``BENCH_PASSWORD`` (hashed once with
    the first configured hasher).
    """
    if not 0 <= twin_groups <= count // 2:
        raise ValueError("twin_groups must be between 0 and half the number of users")
    user_model = get_user_model()
    first_id = (user_model._default_manager.using(using).aggregate(top=Max("pk"))["top"] or 0) + 1
    password = make_password(BENCH_PASSWORD)
    joined = timezone.now()
    connection = connections[using]

    def user_rows():
        for number, username, email in generated_users(count, twin_groups):
            yield (first_id + number, password, False, username, "", "", email, False, True, joined)

    key_columns = KEY_COLUMNS + ((SKELETON_COLUMN,) if skeleton_digests_ready(using) else ())

    def key_rows():
        for number, username, email in generated_users(count, twin_groups):
            fields = key_fields(username, email)
            yield first_id + number, *(fields[column] for column in key_columns[1:])

    users_table = user_model._meta.db_table
    keys_table = CaselessKey._meta.db_table
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_rows(cursor, connection, users_table, USER_COLUMNS, user_rows())
            copy_rows(cursor, connection, keys_table, key_columns, key_rows())
        else:
            insert_rows(cursor, connection, users_table, USER_COLUMNS, user_rows(), batch_size)
            insert_rows(cursor, connection, keys_table, key_columns, key_rows(), batch_size)
        for statement in connection.ops.sequence_reset_sql(no_style(), [user_model]):
            cursor.execute(statement)
    return LoadedUsers(first_id=first_id, count=count, twins=twin_groups)


def copy_rows(cursor, connection, table, columns, rows):
    """PostgreSQL ``COPY ... FROM STDIN`` (psycopg 3), the fastest way in."""
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(cursor, connection, table, columns, rows, batch_size):
    """``executemany`` in batches (MySQLdb turns each batch into one multi-row ``INSERT``)."""
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({placeholders})"
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == batch_size:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)


def analyze_tables(using="default"):
    """Refresh the planner's statistics after a bulk load or a migration, as autovacuum would: on
    PostgreSQL ``VACUUM ANALYZE``, since the migrations that fill a column rewrite every key row
    (autovacuum runs after them), and index-only scans need the visibility map it sets."""
    connection = connections[using]
    tables = [get_user_model()._meta.db_table, CaselessKey._meta.db_table]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
        else:
            cursor.execute("ANALYZE TABLE " + ", ".join(map(connection.ops.quote_name, tables)))
            cursor.fetchall()


def random_case(text, rng=random):
    """``text`` with letters' case flipped at random (how people type a login), the same username.

    A flip that would change the username (``ı`` to ``I``: no Turkish tailoring) is not made.
    """
    return "".join(
        char.swapcase() if rng.random() < 0.5 and same_username(char.swapcase(), char) else char
        for char in text
    )
